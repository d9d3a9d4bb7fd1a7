"""Shared command-line plumbing: output formats, JSON printing, common options."""

from __future__ import annotations

__all__ = [
    "OutputFormat",
    "Subparsers",
    "add_command",
    "add_format",
    "add_policy",
    "exit_codes",
    "help_handler",
    "print_json",
    "terminal_bar",
]

import argparse
import enum
import json
import sys
from collections.abc import Callable
from typing import Any, TypeAlias

from twokey.cli import HelpFormatter
from twokey.errors import ExitCode
from twokey.policy import DEFAULT_POLICY_PATH


class OutputFormat(enum.StrEnum):
    """Plain text for people, JSON for machines."""

    TEXT = "text"
    JSON = "json"


Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class CommandParser(argparse.ArgumentParser):
    """A command's parser whose description ``add_command`` fills to 79 columns when it is
    read (by ``--help``), not when the parser is built: ``textwrap`` is ~0.7 ms of a door's
    start-up (ADR 0040). Read, the description is what ``textwrap.fill`` makes of it, as
    before; one set any other way is kept as given, as by ``argparse.ArgumentParser``."""

    _unfilled = ""

    @property
    def description(self) -> str | None:
        if self._unfilled:
            import textwrap  # noqa: PLC0415 - only --help reads a description

            return textwrap.fill(self._unfilled, 79)
        return self._description

    @description.setter
    def description(self, text: str | None) -> None:
        self._unfilled = ""
        self._description = text


def add_command(
    subparsers: Subparsers, name: str, text: str, epilog: str, description: str | None = None
) -> argparse.ArgumentParser:
    """A command or subcommand: ``text`` its one-line help, ``epilog`` its examples (kept as
    written), ``description`` the paragraph its own ``--help`` starts with."""
    made = subparsers._parser_class
    subparsers._parser_class = CommandParser
    try:
        parser = subparsers.add_parser(
            name, help=text, description=None, epilog=epilog, formatter_class=HelpFormatter
        )
    finally:
        subparsers._parser_class = made
    assert isinstance(parser, CommandParser)
    parser._unfilled = description or ""
    return parser


def exit_codes(ok: str = "done", deny: str | None = None, bad: str = "") -> str:
    """The exit-code block every ``--help`` ends with: the codes are the same for every command
    (0 allow, 1 deny, 2 usage or bad input, 3 internal), only what 0, 1 and 2 cover is its own."""
    codes = [f"  0  {ok}", *([f"  1  {deny}"] if deny else [])]
    codes.append("  2  usage or bad input" + (f" ({bad})" if bad else ""))
    codes.append("  3  internal error (a gate treats 3 as deny)")
    return "\n".join(["exit codes:", *codes])


def add_format(parser: argparse.ArgumentParser, *choices: str) -> None:
    """``--format`` with ``text`` and ``json`` (and any extra ``choices``)."""
    options = [f.value for f in OutputFormat] + list(choices)
    parser.add_argument(
        "--format", choices=options, default="text", help="output format (default: text)"
    )


def add_policy(parser: argparse.ArgumentParser) -> None:
    """``--policy FILE`` (default ``.twokey/policy.yml``)."""
    parser.add_argument(
        "--policy",
        metavar="FILE",
        default=None,
        help=f"policy file (default: {DEFAULT_POLICY_PATH})",
    )


def print_json(data: Any) -> None:
    """Print ``data`` as stable, indented JSON."""
    json.dump(data, sys.stdout, indent=2, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")


Update = Callable[..., None]


def terminal_bar(text: str, total: int | None = None) -> tuple[Update, Callable[[], None]] | None:
    """A transient progress bar on stderr when it is a terminal (long runs), else None.

    ``text`` is a rich column template (``{task.completed}``, ``{task.description}``); with a
    ``total`` the bar shows how far it is, without one a spinner. Returns (update, stop):
    ``update(**fields)`` takes ``rich.progress.Progress.update``'s keywords.
    """
    if not sys.stderr.isatty():
        return None
    from rich.console import Console  # noqa: PLC0415 - only on a terminal
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    first = SpinnerColumn() if total is None else BarColumn()
    bar = Progress(
        first, TextColumn(text), TimeElapsedColumn(), console=Console(stderr=True), transient=True
    )
    task = bar.add_task("", total=total)
    bar.start()
    return (lambda **fields: bar.update(task, **fields)), bar.stop


def help_handler(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """The handler of a command group run without a subcommand: its help, exit 2."""

    def show(_args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return ExitCode.USAGE

    return show
