"""A command's description is filled to 79 columns when read, not when built (ADR 0040)."""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap

from twokey.cli import HelpFormatter
from twokey.cli._output import CommandParser, add_command

_LONG = (
    "Judge a deploy: provenance from a trusted builder, deploy approvals from operators who "
    "neither wrote nor approved the release, a deployer who may deploy, freeze windows."
)


def _subparsers() -> argparse._SubParsersAction[argparse.ArgumentParser]:
    parser = argparse.ArgumentParser(prog="twokey", formatter_class=HelpFormatter)
    return parser.add_subparsers(title="commands", metavar="COMMAND")


def test_the_description_read_is_the_filled_text() -> None:
    command = add_command(_subparsers(), "check", "one line", "epilog", description=_LONG)
    assert isinstance(command, CommandParser)
    assert command.description == textwrap.fill(_LONG, 79)
    assert "\n" in (command.description or "")  # filled: the probe can tell


def test_no_description_is_none_as_before() -> None:
    for given in (None, ""):
        command = add_command(_subparsers(), "check", "one line", "epilog", description=given)
        assert command.description is None


def test_a_description_set_afterwards_is_kept_as_given() -> None:
    command = add_command(_subparsers(), "check", "one line", "epilog", description=_LONG)
    command.description = _LONG
    assert command.description == _LONG


def test_the_help_shows_the_filled_description() -> None:
    subparsers = _subparsers()
    command = add_command(subparsers, "check", "one line", "epilog", description=_LONG)
    assert textwrap.fill(_LONG, 79) in command.format_help()


def test_building_a_door_s_parser_imports_no_textwrap() -> None:
    code = "import sys\nfrom twokey.cli import build_parser\nbuild_parser('deploy', 'check')\n"
    code += "print('textwrap' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
