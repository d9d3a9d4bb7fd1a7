"""``twokey explain``: render a decision (as printed by ``--format json``) for humans."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from twokey.cli._output import Subparsers, add_command, exit_codes
from twokey.engine import decision_from_dict, explain
from twokey.errors import ExitCode, UsageError
from twokey.model import Decision

_EPILOG = f"""\
examples:
  twokey check --format json > decision.json; twokey explain decision.json
  twokey check --format json | twokey explain -

{exit_codes("every decision allows", "some decision denies", "input that is no decision")}"""


def register(subparsers: Subparsers) -> None:
    """Register ``twokey explain``."""
    parser = add_command(
        subparsers,
        "explain",
        "explain a decision: rules, who counted, who did not and why",
        _EPILOG,
        description="Render decisions for humans: each finding with its rule (file:line) and "
        "what would satisfy it, who counted and who was excluded and why.",
    )
    parser.add_argument(
        "file", help="decision JSON (as twokey check --format json prints), or - for stdin"
    )
    parser.set_defaults(handler=_explain)


def decisions_in(data: Any) -> list[Decision]:
    """One decision object, a list of them, or ``{"decisions": [...]}`` (as ``check`` prints).

    Raises:
        UsageError: when ``data`` holds no readable decision (exit 2).
    """
    if isinstance(data, dict) and "decisions" in data:
        data = data["decisions"]
    items = data if isinstance(data, list) else [data]
    try:
        return [decision_from_dict(item) for item in items]
    except ValueError as exc:
        raise UsageError(str(exc), hint="pass the output of 'twokey check --format json'") from exc


def _read(name: str) -> Any:
    try:
        if name == "-":
            text = sys.stdin.read()
        else:
            with open(name, encoding="utf-8") as handle:
                text = handle.read()
        return json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read a decision from {name}: {exc}") from exc


def _explain(args: argparse.Namespace) -> int:
    decisions = decisions_in(_read(args.file))
    if not decisions:
        print("no decisions (nothing was updated)")
        return ExitCode.ALLOW
    print("\n\n".join(explain(d) for d in decisions))
    return ExitCode.ALLOW if all(d.allowed for d in decisions) else ExitCode.DENY
