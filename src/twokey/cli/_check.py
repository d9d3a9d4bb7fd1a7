"""``twokey check``: judge a ref update in any CI; exit 0 allow, 1 deny, 2 usage, 3 internal."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from twokey.cli._output import Subparsers, add_command
from twokey.errors import UsageError
from twokey.model import Alias, AliasKind

if TYPE_CHECKING:
    from twokey.doors import Report

_FORMATS = ("text", "json", "sarif", "junit", "github")
_EPILOG = """\
examples:
  git fetch origin 'refs/twokey/*:refs/twokey/*'      # evidence travels in refs
  twokey check --base origin/main --head HEAD             # --ref refs/heads/main inferred
  twokey check --ref refs/heads/main --old $OLD --new $NEW --format sarif > twokey.sarif
  twokey check --base origin/main --head HEAD --evidence approvals/ --format junit

The policy is read from the base (or --old, or --policy-from), never from the head. Only the
base's history counts as already reviewed: other refs of the clone (tags an ungated remote
holds) are never trusted.
With GITHUB_ACTIONS=true, findings are also printed as workflow annotations.

exit codes: 0 allow, 1 deny, 2 usage or policy error, 3 internal error (treat 3 as deny)
docs: docs/check.md"""


def register(subparsers: Subparsers) -> None:
    """Register ``twokey check``."""
    parser = add_command(
        subparsers,
        "check",
        "judge a ref update (base..head) against the policy, for any CI",
        _EPILOG,
        description="Judge a ref update: the commits it brings, the evidence for them, and the "
        "policy of the target branch.",
    )
    parser.add_argument("--repo", type=Path, default=Path(), help="repository (default: .)")
    parser.add_argument("--base", help="the target branch as it is (e.g. origin/main)")
    parser.add_argument("--head", help="what would land (e.g. HEAD)")
    parser.add_argument(
        "--ref",
        help="the ref that would move (default: $GITHUB_BASE_REF, else the branch --base "
        "names: origin/main -> refs/heads/main)",
    )
    parser.add_argument("--old", help="the ref's current commit (with --new)")
    parser.add_argument("--new", help="the proposed commit (with --old)")
    parser.add_argument("--policy", type=Path, metavar="FILE", help="use this policy file")
    parser.add_argument("--policy-from", metavar="REV", help="read the policy at REV")
    parser.add_argument(
        "--evidence",
        type=Path,
        action="append",
        default=[],
        metavar="FILE|DIR",
        help="DSSE envelope files (repeatable)",
    )
    parser.add_argument("--repository", metavar="ID", help="repository id approvals name")
    parser.add_argument("--pusher", metavar="ALIAS", help="who lands the change (kind:value)")
    parser.add_argument(
        "--ledger",
        metavar="URL",
        default="",
        help="record the decision in this ledger before answering (sqlite:///path or "
        "postgresql://...; default: $TWOKEY_LEDGER, then git config twokey.ledger); "
        "a ledger that cannot be written is a deny",
    )
    parser.add_argument("--format", choices=_FORMATS, default="text", help="(default: text)")
    parser.add_argument("--explain", action="store_true", help="who counted, who did not, why")
    parser.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    from twokey.doors import CheckRequest, ReportFormat, render, run_check  # noqa: PLC0415

    request = CheckRequest(
        repo=args.repo,
        ref=_ref(args),
        old=args.base if args.old is None else args.old,
        new=args.head if args.new is None else args.new,
        policy_rev=args.policy_from or "",
        policy_file=args.policy,
        evidence=tuple(args.evidence),
        repository=args.repository or "",
        pusher=_pusher(args.pusher),
        ledger=args.ledger,
    )
    report = run_check(request, os.environ, datetime.now(UTC))
    fmt = ReportFormat(args.format)
    if fmt is ReportFormat.TEXT and args.explain:
        from twokey.engine import explain  # noqa: PLC0415

        print("\n\n".join(explain(j.decision) for j in report.judgements))
    else:
        print(render(fmt, report))
    if os.environ.get("GITHUB_ACTIONS") == "true" and fmt is not ReportFormat.GITHUB:
        annotations = render(ReportFormat.GITHUB, report)
        if annotations:  # machine formats keep stdout clean: annotations go to stderr
            print(annotations, file=sys.stdout if fmt is ReportFormat.TEXT else sys.stderr)
    return _exit(report)


def _exit(report: Report) -> int:
    from twokey.doors import exit_code  # noqa: PLC0415

    return exit_code([j.decision for j in report.judgements])


def _ref(args: argparse.Namespace) -> str:
    pairs = (args.base is not None or args.head is not None, args.old or args.new)
    if all(pairs) or not any(pairs):
        raise UsageError("give either --base and --head, or --ref with --old and --new")
    if (args.base is None) != (args.head is None) or (args.old is None) != (args.new is None):
        raise UsageError("--base needs --head, and --old needs --new")
    ref = args.ref or os.environ.get("GITHUB_BASE_REF", "")
    if not ref:
        if args.base is None:
            raise UsageError("name the ref that would move: --ref refs/heads/main")
        return ""  # inferred from the base branch (origin/main -> refs/heads/main)
    return ref if ref.startswith("refs/") else f"refs/heads/{ref}"


def _pusher(text: str | None) -> Alias | None:
    if text:
        try:
            return Alias.parse(text) if ":" in text else Alias.email(text)
        except ValueError as exc:
            raise UsageError(f"--pusher: {exc}") from exc
    actor = os.environ.get("GITHUB_ACTOR", "")
    if os.environ.get("GITHUB_ACTIONS") == "true" and actor:
        return Alias.login(AliasKind.GITHUB, actor)
    return None
