"""``twokey evidence list|verify``: what evidence a revision has, and whether it holds."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from twokey.cli._output import (
    Subparsers,
    add_command,
    add_format,
    exit_codes,
    help_handler,
    print_json,
)
from twokey.cli._revs import commit_of, repo_at, tree_of
from twokey.doors import base_policy
from twokey.errors import ExitCode
from twokey.evidence import (
    Envelope,
    EvidenceError,
    GitEvidenceStore,
    Item,
    StoredEnvelope,
    fingerprint,
    repository_id,
    signer_of,
    verify_envelopes,
)
from twokey.git import GitRunner as Git
from twokey.model import (
    Approval,
    BreakGlassReview,
    BuildProvenance,
    CheckResult,
    DeployApproval,
    DeployRequest,
)
from twokey.policy import Policy, load

_EPILOG = f"""\
examples:
  git fetch origin 'refs/twokey/*:refs/twokey/*'
  twokey evidence list HEAD
  twokey evidence verify HEAD --format json
  twokey evidence verify --policy .twokey/policy.yml     # everything under refs/twokey/

The policy defaults to .twokey/policy.yml on the remote's default branch as fetched
(refs/remotes/origin/HEAD), never the checkout's: verify says which policy it used.
{exit_codes("listed, or every statement verifies", "some statement is refused (verify)")}"""

_LIST = f"""\
examples:
  git fetch origin 'refs/twokey/*:refs/twokey/*'
  twokey evidence list HEAD              # about HEAD's commit and tree
  twokey evidence list --format json     # everything under refs/twokey/

Lists what is stored, without checking a signature: twokey evidence verify does that.
{exit_codes("listed", bad="a REV that does not exist")}"""

_VERIFY = f"""\
examples:
  twokey evidence verify HEAD
  twokey evidence verify origin/feature --policy ops/policy.yml --format json
  twokey evidence verify --repository git.example.com/org/shop   # everything stored

Each statement: its signer, the person the policy says that key is, and whether it verifies
(signature, known key valid at the time, this repository) or why not. The policy defaults to
.twokey/policy.yml on the remote's default branch as fetched (refs/remotes/origin/HEAD),
never the checkout's; verify says which policy it used.
{exit_codes("every statement verifies", "some statement is refused", "an unknown REV")}"""


def register(subparsers: Subparsers) -> None:
    """Register ``twokey evidence``."""
    parser = add_command(
        subparsers,
        "evidence",
        "list or verify the evidence of a revision",
        _EPILOG,
        description="Evidence stored under refs/twokey/: list it, or verify it against the policy.",
    )
    commands = parser.add_subparsers(title="evidence commands", metavar="COMMAND")
    for name, handler, text, epilog in (
        ("list", _list, "list stored envelopes (unverified)", _LIST),
        ("verify", _verify, "verify each statement: signer, person, valid or why not", _VERIFY),
    ):
        sub = add_command(
            commands, name, text, epilog, description=text[0].upper() + text[1:] + "."
        )
        sub.add_argument("rev", nargs="?", help="revision (its commit and tree); default: all")
        sub.add_argument("--repo", default=".", help="repository (default: current directory)")
        if name == "verify":
            sub.add_argument(
                "--policy",
                metavar="FILE",
                default=None,
                help="policy file (default: .twokey/policy.yml on the remote's default branch, "
                "as fetched: refs/remotes/origin/HEAD; never the checkout's)",
            )
            sub.add_argument(
                "--repository",
                help="refuse statements for another repository id (default: twokey.repository "
                "config, else the origin URL, else the directory name)",
            )
        add_format(sub)
        sub.set_defaults(handler=handler)
    parser.set_defaults(handler=help_handler(parser))


def _envelopes(git: Git, rev: str | None) -> tuple[list[StoredEnvelope], dict[str, str]]:
    """The envelopes about REV's commit and tree (or all), and REV's real commit -> tree."""
    store = GitEvidenceStore(git.git_dir)
    if rev is None:
        return list(store.all()), {}
    commit = commit_of(git, rev)
    tree = tree_of(git, commit)
    return store.for_subjects([commit, tree]), {commit: tree}


def _kind(data: bytes) -> str:
    """The predicate type of an envelope, unverified (for listing only)."""
    try:
        return str(Envelope.parse(data).statement().get("predicateType", "?")).rsplit("/", 2)[-2]
    except (EvidenceError, IndexError):
        return "?"


def _list(args: argparse.Namespace) -> int:
    envelopes, _ = _envelopes(repo_at(args.repo), args.rev)
    rows = [
        {"ref": e.source, "id": e.digest, "bytes": len(e.data), "kind": _kind(e.data)}
        for e in envelopes
    ]
    if args.format == "json":
        print_json(rows)
    else:
        for row in rows:
            print(f"{row['ref']}  {row['kind']}  {row['bytes']} bytes")
        print(f"{len(rows)} envelope(s) (not verified: twokey evidence verify)")
    return ExitCode.ALLOW


_KINDS: dict[type, str] = {
    Approval: "approval",
    BuildProvenance: "provenance",
    CheckResult: "check",
    DeployApproval: "deploy-approval",
    DeployRequest: "deploy",
    BreakGlassReview: "break-glass-review",
}


def _about(item: Item) -> str:
    match item:
        case Approval():
            return f"approval of {item.commit[:12]} (tree {item.tree[:12]}) for {item.ref}"
        case BuildProvenance():
            return f"provenance: {item.artifact[:19]} built from {item.commit[:12]}"
        case CheckResult():
            verdict = "passed" if item.passed else "FAILED"
            return f"check {item.name!r} {verdict} for {item.subject[:19]}"
        case DeployApproval():
            return f"deploy approval: {item.artifact[:19]} to {item.environment}"
        case DeployRequest():
            return f"deploy record: {item.artifact[:19]} to {item.environment}"
        case BreakGlassReview():
            return f"break-glass review of ledger entry {item.entry}: {item.verdict}"


def _row(item: Item, policy: Policy) -> dict[str, Any]:
    signer = signer_of(item)
    person = policy.resolve(signer)
    return {
        "ref": item.source if not isinstance(item, DeployRequest) else "",
        "id": item.evidence_id if not isinstance(item, DeployRequest) else item.id,
        "kind": _KINDS[type(item)],
        "statement": _about(item),
        "valid": True,
        "signer": fingerprint(signer.value),
        "person": person.id if person else None,
        "time": item.time.isoformat(),
        "reason": "",
    }


def _refused(where: str, why: str) -> dict[str, Any]:
    return {
        "ref": where,
        "kind": None,
        "statement": "",
        "valid": False,
        "signer": "",
        "person": None,
        "reason": why,
    }


def _policy(git: Git, path: str | None) -> tuple[Policy, str]:
    """``--policy FILE``, else the base's policy as the remote has it (``_base_policy``)."""
    if path:
        return load(Path(path)), f"{path} (--policy)"
    return base_policy(git)


def _verify(args: argparse.Namespace) -> int:
    git = repo_at(args.repo)
    policy, origin = _policy(git, args.policy)
    used = f"policy: {origin} ({policy.digest[:19]})"
    print(used, file=sys.stderr if args.format == "json" else sys.stdout)
    envelopes, trees = _envelopes(git, args.rev)
    repository = args.repository or repository_id(git.git_dir)
    result = verify_envelopes(
        envelopes, policy, repository=repository, commit_trees=trees, at=datetime.now(UTC)
    )
    items: list[Item] = [
        *result.approvals,
        *result.checks,
        *result.provenance,
        *result.deploy_approvals,
        *result.deploys,
    ]
    rows = [_row(item, policy) for item in items]
    rows += [_refused(where, why) for where, why in result.rejected]
    if args.format == "json":
        print_json(rows)
    else:
        for row in rows:
            if row["valid"]:
                print(f"ok   {row['statement']}")
                print(f"     signed by {row['person']} ({row['signer']}) at {row['time']}")
            else:
                print(f"BAD  {row['reason']}")
            print(f"     {row['ref'] or row['id']}")
        print(f"{len(items)} verified, {len(result.rejected)} refused (repository {repository})")
    return ExitCode.ALLOW if not result.rejected else ExitCode.DENY
