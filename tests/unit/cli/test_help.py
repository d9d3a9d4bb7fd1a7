"""Every command and subcommand explains itself in ``--help`` (issue 10, deliverable 6).

The test walks the real parser tree, so a command added later without a purpose, an
undocumented option, an example or its exit codes fails here.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from twokey.cli import HelpFormatter, add_placeholder, build_parser, main
from twokey.cli._deploy import GATEWAY_COMMANDS


def _commands(
    parser: argparse.ArgumentParser, name: str = "twokey"
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _commands(sub, f"{name} {sub_name}")


def _leaves() -> list[tuple[str, argparse.ArgumentParser]]:
    return list(_commands(build_parser()))


_ALL = _leaves()


def test_the_walk_sees_every_command() -> None:
    names = {n for n, _ in _ALL}
    assert {"twokey hook install", "twokey ledger verify-export", "twokey demo"} <= names
    assert "twokey policy schema" in names
    assert len(names) > 30


@pytest.mark.parametrize(("name", "parser"), _ALL, ids=[n for n, _ in _ALL])
def test_help_is_complete(name: str, parser: argparse.ArgumentParser) -> None:
    assert parser.description, f"{name}: no description (one-line purpose)"
    epilog = parser.epilog or ""
    assert "example" in epilog, f"{name}: no example"
    assert f"{name} " in epilog or f"{name}\n" in epilog, f"{name}: no example of itself"
    assert "exit codes:" in epilog, f"{name}: no exit codes"
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        label = "/".join(action.option_strings) or action.dest
        assert action.help, f"{name}: {label} is not explained"


@pytest.mark.parametrize(("name", "parser"), _ALL, ids=[n for n, _ in _ALL])
def test_help_prints_and_exits_0(
    name: str, parser: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str]
) -> None:
    del parser
    assert main([*name.split()[1:], "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ")
    assert "exit codes:" in out


def test_verify_export_reads_its_directory(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ledger", "verify-export", "--help"]) == 0
    out = capsys.readouterr().out
    assert "where to write" not in out
    assert "the export to verify" in out


def test_deploy_check_lists_the_gateway_commands_it_does_not_build() -> None:
    """``deploy check`` registers the gateway's deploy commands as placeholders (ADR 0035):
    their names and one-line help are the ones the full registration gives, in order."""

    def listed(parser: argparse.ArgumentParser) -> list[tuple[str, str]]:
        deploy = dict(_commands(parser))["twokey deploy"]
        [group] = [a for a in deploy._actions if isinstance(a, argparse._SubParsersAction)]
        return [(a.dest, a.help or "") for a in group._choices_actions]

    full = listed(build_parser("deploy"))
    assert full == [("check", full[0][1]), *GATEWAY_COMMANDS]
    assert listed(build_parser("deploy", "check")) == full


def _with_thing(placeholder: bool) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="twokey", formatter_class=HelpFormatter)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    if placeholder:
        add_placeholder(commands, "thing", "does a thing")
    else:  # what a placeholder was before ADR 0036, built at once
        commands.add_parser(
            "thing", help="does a thing", add_help=False, formatter_class=HelpFormatter
        )
    return parser


def _outcome(
    parser: argparse.ArgumentParser, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[object, str, str]:
    try:
        result: object = vars(parser.parse_args(argv))
    except SystemExit as exc:
        result = exc.code
    out, err = capsys.readouterr()
    return result, out, err


@pytest.mark.parametrize(
    "argv",
    [[], ["thing"], ["thing", "--x"], ["thing", "word"], ["thing", "-h"], ["--help"], ["thin"]],
    ids=["none", "thing", "option", "word", "thing-help", "help", "typo"],
)
def test_a_placeholder_handed_words_is_the_parser_it_stands_for(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A placeholder is built only when used (ADR 0036); used, it answers, prints and exits
    exactly as the parser it stands for."""
    built = _outcome(_with_thing(placeholder=False), argv, capsys)
    assert _outcome(_with_thing(placeholder=True), argv, capsys) == built


def test_a_placeholder_is_not_built_until_used() -> None:
    parser = _with_thing(placeholder=True)
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    thing = commands.choices["thing"]
    assert "_actions" not in vars(thing)
    assert thing.prog == "twokey thing"  # built on first use
    assert "_actions" in vars(thing)
