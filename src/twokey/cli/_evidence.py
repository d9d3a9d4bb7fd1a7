"""``twokey evidence list|verify``: what evidence a revision has, and whether it holds."""

from __future__ import annotations

import argparse
from pathlib import Path

from twokey.cli._output import add_format, add_policy, print_json
from twokey.errors import ExitCode
from twokey.evidence import (
    EvidenceError,
    GitEvidenceStore,
    StoredEnvelope,
    verify_envelope,
)
from twokey.git import Git
from twokey.policy import DEFAULT_POLICY_PATH, load

_EPILOG = """\
examples:
  git fetch origin 'refs/twokey/*:refs/twokey/*'
  twokey evidence list HEAD
  twokey evidence verify HEAD --format json

exit codes (verify): 0 every statement verifies, 1 some statement is refused"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``twokey evidence``."""
    parser = subparsers.add_parser(
        "evidence",
        help="list or verify the evidence of a revision",
        description="Evidence stored under refs/twokey/.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(title="evidence commands", metavar="COMMAND")
    for name, handler, text in (
        ("list", _list, "list stored envelopes"),
        ("verify", _verify, "verify each statement, signer and person"),
    ):
        sub = commands.add_parser(
            name, help=text, epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        sub.add_argument("rev", nargs="?", help="revision (its commit and tree); default: all")
        sub.add_argument("--repo", default=".", help="repository (default: current directory)")
        add_policy(sub)
        add_format(sub)
        sub.set_defaults(handler=handler)
    parser.set_defaults(handler=lambda _a: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return ExitCode.USAGE


def _envelopes(args: argparse.Namespace) -> list[StoredEnvelope]:
    git = Git.discover(args.repo)
    store = GitEvidenceStore(git.git_dir)
    if args.rev is None:
        return list(store.all())
    commit = git.rev_parse(f"{args.rev}^{{commit}}")
    return store.for_subjects([commit, git.rev_parse(f"{commit}^{{tree}}")])


def _list(args: argparse.Namespace) -> int:
    envelopes = _envelopes(args)
    if args.format == "json":
        print_json([{"ref": e.source, "id": e.digest, "bytes": len(e.data)} for e in envelopes])
    else:
        for env in envelopes:
            print(f"{env.source}  {len(env.data)} bytes")
        print(f"{len(envelopes)} envelope(s)")
    return ExitCode.ALLOW


def _verify(args: argparse.Namespace) -> int:
    policy = load(Path(args.policy or DEFAULT_POLICY_PATH))
    rows = []
    for env in _envelopes(args):
        try:
            for item in verify_envelope(env, policy):
                person = policy.resolve(item.signer)
                rows.append(
                    {
                        "ref": env.source,
                        "kind": type(item).__name__,
                        "valid": True,
                        "signer": str(item.signer)[:60],
                        "person": person.id if person else None,
                        "reason": "",
                    }
                )
        except EvidenceError as exc:
            rows.append(
                {
                    "ref": env.source,
                    "kind": "?",
                    "valid": False,
                    "signer": "",
                    "person": None,
                    "reason": str(exc),
                }
            )
    if args.format == "json":
        print_json(rows)
    else:
        for row in rows:
            mark = "ok " if row["valid"] else "BAD"
            who = f"{row['kind']} by {row['person']}" if row["valid"] else row["reason"]
            print(f"{mark} {row['ref']}: {who}")
    return ExitCode.ALLOW if all(r["valid"] for r in rows) else ExitCode.DENY
