"""A door's process ends itself once it has answered (ADR 0035): the answer and the exit code
are exactly what the interpreter's own exit would give, and a command line run in-process
(tests, an embedding program) leaves the garbage collector as it found it."""

from __future__ import annotations

import gc
import subprocess
import sys

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


def test_a_closed_output_leaves_the_exit_to_the_interpreter() -> None:
    """Standard output that cannot be flushed: the process ends as Python ends it (never 0)."""
    probe = _PROBE.replace('print("x" * 200_000)', 'print("x" * 200_000); sys.stdout.close()')
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, check=False)
    assert done.returncode != 0


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
