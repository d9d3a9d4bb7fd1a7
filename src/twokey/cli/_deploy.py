"""``twokey deploy check``: may this artifact go to this environment now? (invariant 5)

The deploy job runs it offline against the repository's evidence refs: provenance from a
trusted builder, deploy approvals from operators who neither wrote nor approved the release,
a deployer who may deploy, the freeze windows, and break-glass.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from twokey.cli._attest import artifact_digest
from twokey.cli._output import Subparsers, add_command, help_handler, print_json
from twokey.engine import decision_json, evaluate_safely, explain
from twokey.errors import ExitCode, TwokeyError, UsageError
from twokey.evidence import (
    GitEvidenceStore,
    VerifiedEvidence,
    repository_id,
    verify_envelopes,
)
from twokey.git._process import Plumbing
from twokey.git._run import Git
from twokey.model import (
    Alias,
    BreakGlass,
    Decision,
    DeployFacts,
    DeployRequest,
    Evidence,
    FindingCode,
)
from twokey.policy import DEFAULT_POLICY_PATH, Policy, load, loads

_EPILOG = """\
examples:
  twokey deploy check --environment production --artifact dist/app.tar.gz --commit HEAD \\
      --deployer email:dave@example.com --since v1.2.0
  twokey deploy check ... --break-glass "prod down, rollback" --format json

The policy is read from the environment's first `from` ref's tip (--policy to override).
The release is the commits since --since (the environment's last deployed commit); without
--since, the commits of the deployed commit's own change (REV^..REV).
exit codes: 0 allow, 1 deny, 2 usage or policy error, 3 internal error"""


def register(subparsers: Subparsers) -> None:
    """Register ``twokey deploy``."""
    parser = add_command(
        subparsers,
        "deploy",
        "check a deploy request against the policy",
        _EPILOG,
        description="Deploy requests, judged by the engine.",
    )
    commands = parser.add_subparsers(title="deploy commands", metavar="COMMAND")
    check = add_command(commands, "check", "may this artifact be deployed now?", _EPILOG)
    check.add_argument("--repo", default=".")
    check.add_argument("--environment", required=True)
    check.add_argument("--artifact", required=True, help="artifact file, or sha256:<hex>")
    check.add_argument("--commit", default="HEAD", help="the commit it was built from")
    check.add_argument(
        "--deployer",
        required=True,
        help="who carries out the deploy "
        "(kind:value, e.g. email:dave@example.com or key:ssh-ed25519 AAAA...)",
    )
    check.add_argument("--requester", help="who asked (default: the deployer)")
    check.add_argument("--since", help="the environment's last deployed commit")
    check.add_argument(
        "--break-glass",
        metavar="REASON",
        help="emergency override, by the deployer (allowed people only; reviewed after the fact)",
    )
    check.add_argument(
        "--ledger",
        metavar="URL",
        default="",
        help="record the decision (a deploy entry) in this ledger before answering "
        "(default: $TWOKEY_LEDGER, then git config twokey.ledger); a ledger that cannot be "
        "written is a deny",
    )
    check.add_argument("--policy", type=Path)
    check.add_argument("--now", help="decision time, ISO 8601 with zone (default: now)")
    check.add_argument("--format", choices=["text", "json"], default="text")
    check.set_defaults(handler=_check)
    parser.set_defaults(handler=help_handler(parser))


def _alias(text: str) -> Alias:
    try:
        return Alias.parse(text) if ":" in text else Alias.email(text)
    except ValueError as exc:
        raise UsageError(
            f"bad identity {text!r}: use kind:value, e.g. email:dave@example.com"
        ) from exc


def _now(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"bad --now {text!r}") from exc
    if when.tzinfo is None:
        raise UsageError("--now needs a time zone, e.g. 2026-11-27T22:00:00+01:00")
    return when


def _policy(git: Git, args: argparse.Namespace) -> Policy:
    if args.policy is not None:
        return load(args.policy)
    head = git.run("symbolic-ref", "--quiet", "HEAD", check=False).decode().strip() or "HEAD"
    spec = f"{head}:{DEFAULT_POLICY_PATH}"
    if not git.ok("cat-file", "-e", spec):
        raise UsageError(f"no policy at {spec}", hint="pass --policy FILE")
    return loads(git.run("cat-file", "blob", spec), spec)


def _commit_refs(git: Git, commit: str) -> tuple[str, ...]:
    out = git.text(
        "for-each-ref",
        "--contains",
        commit,
        "--format=%(refname)",
        "refs/heads/",
        "refs/remotes/",
        "refs/tags/",
    )
    refs = set()
    for ref in out.splitlines():
        refs.add(ref)
        if ref.startswith("refs/remotes/") and ref.count("/") >= 3:  # origin/main -> main
            refs.add("refs/heads/" + ref.split("/", 3)[3])
    return tuple(sorted(refs))


def _check(args: argparse.Namespace) -> int:
    from twokey.git._reader import GitReader  # noqa: PLC0415 - keeps `twokey --help` light

    git = Git.discover(args.repo)
    policy = _policy(git, args)
    commit = git.rev_parse(f"{args.commit}^{{commit}}")
    digest = artifact_digest(args.artifact)
    now = _now(args.now)
    since = git.rev_parse(f"{args.since}^{{commit}}") if args.since else f"{commit}^"
    reader = GitReader(git.git_dir)
    release = reader.commits(commit, [since])
    store = GitEvidenceStore(git.git_dir)
    subjects = [digest, *(c.sha for c in release), *(c.tree for c in release)]
    verified = verify_envelopes(
        store.for_subjects(subjects), policy, commit_trees={c.sha: c.tree for c in release}
    )
    deployer = _alias(args.deployer)
    glass = BreakGlass(deployer, args.break_glass, now) if args.break_glass else None
    request = DeployRequest(
        f"{args.environment}:{digest[:19]}",
        repository_id(git.git_dir),
        args.environment,
        digest,
        commit,
        _alias(args.requester) if args.requester else deployer,
        deployer,
        now,
        glass,
    )
    facts = DeployFacts(
        request,
        _commit_refs(git, commit),
        tuple(release),
        tuple(verified.approvals),
        tuple(verified.provenance),
        tuple(verified.deploy_approvals),
        tuple(verified.checks),
        tuple(verified.rejected),
    )
    decision = evaluate_safely(policy, facts, now)
    decision = _recorded(decision, request, _evidence_ids(verified), args, reader.git)
    if args.format == "json":
        print_json({"decisions": [json.loads(decision_json(decision))]})
    else:
        print(explain(decision))
    return ExitCode.ALLOW if decision.allowed else ExitCode.DENY


def _evidence_ids(verified: VerifiedEvidence) -> list[str]:
    """The ids (sha256 of the envelope bytes) of the evidence the decision was made from."""
    kinds: tuple[tuple[Evidence, ...], ...] = (
        verified.approvals,
        verified.provenance,
        verified.deploy_approvals,
        verified.checks,
    )
    return sorted({e.evidence_id for kind in kinds for e in kind})


def _recorded(
    decision: Decision,
    request: DeployRequest,
    evidence: list[str],
    args: argparse.Namespace,
    git: Plumbing,
) -> Decision:
    """The decision, once a ``deploy`` entry holds it in the ledger (invariant 9).

    The audit reads these entries for who deployed what (docs/audit.md, "Ledger records"). A
    ledger that cannot be written turns the decision into a deny (invariant 8).
    """
    from twokey.git._record import record  # noqa: PLC0415 - only with a ledger
    from twokey.git._repository import repository_settings  # noqa: PLC0415
    from twokey.git._verdicts import door_deny  # noqa: PLC0415
    from twokey.ledger import DeployRecord, to_entry  # noqa: PLC0415

    url = args.ledger or repository_settings(git, os.environ).ledger
    if not url:
        return decision
    deploy = DeployRecord(
        "deploy-check",
        request.repository,
        request.environment,
        request.artifact,
        request.commit,
        str(request.deployer),
        str(request.requester),
        args.since,
        tuple(evidence),  # ids (sha256 of the envelope bytes) of what was verified
        decision.to_dict(),
    )
    try:
        record(url, [to_entry(deploy, request.time)])
    except TwokeyError as exc:
        hint = "fix the ledger (twokey ledger verify), or run without --ledger"
        return door_deny(decision.subject, FindingCode.INTERNAL_ERROR, exc.message, hint)
    return decision
