"""A door's process ends itself once it has answered (ADR 0035): the answer and the exit code
are exactly what the interpreter's own exit would give, and a command line run in-process
(tests, an embedding program) leaves the garbage collector as it found it."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from twokey.cli import main

_PROBE = """\
import sys
from twokey.doors._entry import end_process
print("x" * 200_000)
print("said", file=sys.stderr)
end_process(3)
print("never")
"""


def test_the_answer_is_written_in_full_and_the_code_kept() -> None:
    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, check=False)
    assert done.returncode == 3
    assert done.stdout == b"x" * 200_000 + b"\n"
    assert done.stderr == b"said\n"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_an_answer_that_cannot_be_written_ends_as_the_interpreter_ends_it() -> None:
    """Output that cannot be flushed (a full disk): the process ends exactly as Python ends one
    that exits with the same code (120, the failure on stderr), never 0."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered
    ends = []
    for last in ("sys.exit(end_process(3))", "sys.exit(3)"):
        probe = f"import sys\nfrom twokey.doors._entry import end_process\nprint('x')\n{last}\n"
        with Path("/dev/full").open("w") as full:
            done = subprocess.run(
                [sys.executable, "-c", probe],
                stdout=full,
                stderr=subprocess.PIPE,
                env=env,
                check=False,
            )
        ends.append((done.returncode, done.stderr))
    assert ends[0] == ends[1]
    assert ends[0][0] == 120
    assert b"No space left on device" in ends[0][1]


def test_main_in_process_leaves_the_collector_as_it_found_it() -> None:
    assert gc.isenabled()
    assert main(["deploy", "check", "--help"]) == 0
    assert gc.isenabled()
    gc.disable()
    try:
        assert main(["deploy", "check", "--help"]) == 0
        assert not gc.isenabled()
    finally:
        gc.enable()


_ENTRY_PROBE = """\
import gc, sys
{entry}
import twokey.cli
seen = []
def probe(handler, args, _run=twokey.cli._run):
    seen.append(gc.isenabled())
    return _run(handler, args)
twokey.cli._run = probe
sys.argv = ["twokey", *{argv!r}]
code = run()
print(seen, gc.isenabled(), code)
"""


@pytest.mark.parametrize(
    ("entry", "argv", "seen"),
    [
        ("from twokey.__main__ import run", ["policy", "schema"], "[True] True 0"),
        (
            "import gc\ngc.disable()\nfrom twokey.__main__ import run",
            ["policy", "schema"],
            "[False] False 0",
        ),
        ("from twokey.__main__ import run", ["check", "--help"], "[] True 0"),
    ],
    ids=["collecting", "off-before", "help"],
)
def test_the_process_entry_imports_the_command_line_without_the_collector(
    entry: str, argv: list[str], seen: str
) -> None:
    """``twokey`` (``twokey.__main__.run``) imports the command line with the collector off
    (ADR 0040) and tells ``main`` whether it was on: a command that is no door then runs with
    it on, as before; one started with it off keeps it off."""
    probe = _ENTRY_PROBE.format(entry=entry, argv=argv)
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == seen


def test_the_hook_entry_imports_without_the_collector_and_restores_it_when_imported() -> None:
    """``python -m twokey.doors`` imports the hook with the collector off (ADR 0040); a program
    that imports the module (not runs it) gets the collector back as it was."""
    probe = "import gc\nimport twokey.doors.__main__\nprint(gc.isenabled())"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True"
    off = "import gc\ngc.disable()\nimport twokey.git.__main__\nprint(gc.isenabled())"
    done = subprocess.run([sys.executable, "-c", off], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
