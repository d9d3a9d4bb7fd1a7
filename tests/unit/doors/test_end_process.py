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
