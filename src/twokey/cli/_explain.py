"""``twokey explain``: render a decision (as printed by ``--format json``) for humans."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from twokey.engine import decision_from_dict, explain
from twokey.errors import ExitCode, UsageError
from twokey.model import Decision

_EPILOG = """\
examples:
  twokey check --format json > decision.json; twokey explain decision.json
  twokey check --format json | twokey explain -

exit codes: 0 every decision allows, 1 some decision denies, 2 not a decision"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``twokey explain``."""
    parser = subparsers.add_parser(
        "explain",
        help="explain a decision: rules, who counted, who did not and why",
        description="Render decisions for humans: each finding with its rule (file:line) and "
        "what would satisfy it, who counted and who was excluded and why.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", help="decision JSON file, or - for standard input")
    parser.set_defaults(handler=_explain)


def decisions_in(data: Any) -> list[Decision]:
    """One decision object, a list of them, or ``{"decisions": [...]}``."""
    if isinstance(data, dict) and "decisions" in data:
        data = data["decisions"]
    items = data if isinstance(data, list) else [data]
    try:
        return [decision_from_dict(item) for item in items]
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def _explain(args: argparse.Namespace) -> int:
    try:
        text = sys.stdin.read() if args.file == "-" else open(args.file).read()  # noqa: SIM115
        data = json.loads(text)
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read a decision from {args.file}: {exc}") from exc
    decisions = decisions_in(data)
    print("\n\n".join(explain(d) for d in decisions))
    return ExitCode.ALLOW if all(d.allowed for d in decisions) else ExitCode.DENY
