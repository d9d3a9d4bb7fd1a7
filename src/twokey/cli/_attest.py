"""``twokey attest``: CI signs check results and build provenance; operators approve deploys."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from twokey.cli._digest import artifact_digest
from twokey.cli._junit import read_junit
from twokey.cli._output import (
    Subparsers,
    add_command,
    add_format,
    exit_codes,
    help_handler,
    print_json,
)
from twokey.cli._revs import commit_of, repo_at, tree_of
from twokey.cli._signing import add_signing, signer_from
from twokey.errors import ExitCode
from twokey.evidence import (
    GitEvidenceStore,
    fingerprint,
    repository_id,
    sign_check,
    sign_deploy_approval,
    sign_provenance,
)
from twokey.git import GitRunner as Git

_EPILOG = f"""\
examples:
  twokey attest check --name tests --passed HEAD --key ci.key       # for HEAD's tree
  twokey attest provenance --artifact dist/app.tar.gz --commit HEAD --key ci.key
  twokey attest deploy-approval --artifact sha256:... --environment production \\
      --commit HEAD --ssh-key ~/.ssh/id_ed25519
Each statement is signed, stored under refs/twokey/ and printed with its ref.
{exit_codes("signed and stored", bad="an unknown revision, an unreadable artifact")}"""

_CHECK = f"""\
examples:
  twokey attest check --name tests --passed --key ci.key            # for HEAD's tree
  twokey attest check origin/feature --name lint --failed --key ci.key --format json
  pytest --junit-xml=report.xml; twokey attest check --name tests --junit report.xml --key ci.key

--junit reads a JUnit XML report (any test runner): the result is "passed" only when at least
one test ran and none failed or errored; otherwise "failed" is signed (and the exit code is 0:
the statement was signed; the gate decides what a failed check means).

The result is about the tree (the content), so it holds for every commit with that tree.
Only signers the policy's checks.signers names count (a CI service's key).
{exit_codes("signed and stored", bad="a REV that does not exist")}"""

_PROVENANCE = f"""\
examples:
  twokey attest provenance --artifact dist/app.tar.gz --commit HEAD --key ci.key
  twokey attest provenance --artifact sha256:<64 hex> --commit v1.2.0 --key ci.key

Says that the builder (the signer; the environment's builders) built this artifact digest
from this commit. Stored under refs/twokey/ beside the commit's other evidence.
{exit_codes("signed and stored", bad="an unknown commit, an unreadable artifact")}"""

_DEPLOY = f"""\
examples:
  twokey attest deploy-approval --artifact sha256:... --environment production \\
      --commit HEAD --ssh-key ~/.ssh/id_ed25519
  twokey attest deploy-approval --artifact dist/app.tar.gz --environment staging \\
      --comment "INC-42 fix" --key ~/.config/twokey/id_ed25519

An operator approves deploying this artifact, built from this commit, to one environment.
It never counts when the approver requests or runs the deploy (invariant 5).
{exit_codes("signed and stored", bad="an unknown commit, an unreadable artifact")}"""
_ARTIFACT = "artifact file (its SHA-256 is taken), or sha256:<64 hex digits>"
_REPOSITORY = (
    "repository id the statement names (default: twokey.repository config, else the origin "
    "URL, else the directory name)"
)


def register(subparsers: Subparsers) -> None:
    """Register ``twokey attest``."""
    parser = add_command(
        subparsers,
        "attest",
        "sign check results, build provenance and deploy approvals",
        _EPILOG,
        description="Sign attestations (in-toto statements in DSSE envelopes) and store them in "
        "git under refs/twokey/.",
    )
    commands = parser.add_subparsers(title="attest commands", metavar="COMMAND")
    check = add_command(
        commands,
        "check",
        "a check passed or failed for REV's tree",
        _CHECK,
        description="Sign that a named check (tests, a scanner) passed or failed for REV's tree.",
    )
    check.add_argument(
        "rev", nargs="?", default="HEAD", help="revision whose tree was checked (default: HEAD)"
    )
    check.add_argument("--name", required=True, help="the check's name, e.g. tests")
    result = check.add_mutually_exclusive_group(required=True)
    result.add_argument("--passed", action="store_true", help="the check passed")
    result.add_argument("--failed", action="store_true", help="the check failed")
    result.add_argument(
        "--junit",
        metavar="FILE",
        type=Path,
        help="a JUnit XML report: passed if >= 1 test ran and none failed or errored",
    )
    check.set_defaults(handler=_check)
    prov = add_command(
        commands,
        "provenance",
        "an artifact was built from a commit",
        _PROVENANCE,
        description="Sign build provenance: this artifact digest was built from this commit.",
    )
    prov.add_argument("--artifact", required=True, help=_ARTIFACT)
    prov.add_argument(
        "--commit", default="HEAD", help="the commit it was built from (default: HEAD)"
    )
    prov.set_defaults(handler=_provenance)
    deploy = add_command(
        commands,
        "deploy-approval",
        "approve deploying an artifact",
        _DEPLOY,
        description="Sign an operator's approval to deploy an artifact to an environment.",
    )
    deploy.add_argument("--artifact", required=True, help=_ARTIFACT)
    deploy.add_argument(
        "--environment", required=True, help="the environment, as named in the policy"
    )
    deploy.add_argument(
        "--commit", default="HEAD", help="the commit the artifact was built from (default: HEAD)"
    )
    deploy.add_argument("--comment", default="", help="a note for the record (signed with it)")
    deploy.set_defaults(handler=_deploy_approval)
    for sub in (check, prov, deploy):
        add_signing(sub)
        add_format(sub)
        sub.add_argument("--repository", help=_REPOSITORY)
    parser.set_defaults(handler=help_handler(parser))


def _store(
    args: argparse.Namespace, git: Git, envelope: bytes, subject: str, fields: dict[str, object]
) -> int:
    ref = GitEvidenceStore(git.git_dir).put(envelope, subject)
    data = {"ref": ref, **fields}
    if args.format == "json":
        print_json(data)
    else:
        print(f"{ref}\n  " + ", ".join(f"{k}: {v}" for k, v in fields.items()))
    return ExitCode.ALLOW


def _check(args: argparse.Namespace) -> int:
    report = read_junit(args.junit) if args.junit else None
    passed = report.passed if report else bool(args.passed)
    git = repo_at(args.repo)
    tree = tree_of(git, args.rev)
    signer = signer_from(args, git)
    repository = args.repository or repository_id(git.git_dir)
    envelope = sign_check(
        signer,
        name=args.name,
        repository=repository,
        subject=tree,
        passed=passed,
        when=datetime.now(UTC),
    )
    junit = {"junit": report.describe()} if report else {}
    return _store(
        args,
        git,
        envelope,
        tree,
        {
            "check": args.name,
            "passed": passed,
            "tree": tree,
            "signer": fingerprint(signer.public_key),
            **junit,
        },
    )


def _provenance(args: argparse.Namespace) -> int:
    git = repo_at(args.repo)
    commit = commit_of(git, args.commit)
    digest = artifact_digest(args.artifact)
    signer = signer_from(args, git)
    repository = args.repository or repository_id(git.git_dir)
    envelope = sign_provenance(
        signer, artifact=digest, repository=repository, commit=commit, when=datetime.now(UTC)
    )
    return _store(
        args,
        git,
        envelope,
        digest,
        {"artifact": digest, "commit": commit, "signer": fingerprint(signer.public_key)},
    )


def _deploy_approval(args: argparse.Namespace) -> int:
    git = repo_at(args.repo)
    commit = commit_of(git, args.commit)
    digest = artifact_digest(args.artifact)
    signer = signer_from(args, git)
    repository = args.repository or repository_id(git.git_dir)
    envelope = sign_deploy_approval(
        signer,
        artifact=digest,
        environment=args.environment,
        repository=repository,
        commit=commit,
        when=datetime.now(UTC),
        comment=args.comment,
    )
    return _store(
        args,
        git,
        envelope,
        digest,
        {
            "artifact": digest,
            "environment": args.environment,
            "commit": commit,
            "signer": fingerprint(signer.public_key),
        },
    )
