"""Run a door (``deploy`` or ``hook``) and record how long it waited on git: a wrapper.

``python _git_wait.py LOG deploy ARGS...`` runs ``twokey ARGS`` (``twokey.cli.main``);
``python _git_wait.py LOG hook -m twokey.git hook-run`` runs the installed hook's entry point
(what the hook script's ``exec python -m twokey.git hook-run`` would). Either appends one JSON
line to LOG when the door ends its process: the milliseconds from this wrapper's start to the
end (``total``), spent starting git processes (``spawn``: ``Popen`` returns once git is
executing) and waiting for their answers (``wait``), and how many it started. Used by
``bench_git_wait.py``; the wrapper's own patching costs a few microseconds per process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

_T0 = time.perf_counter()
_SPENT = {"spawn": 0.0, "wait": 0.0, "n": 0.0}
_popen_init = subprocess.Popen.__init__
_communicate = subprocess.Popen.communicate
_exit = os._exit
_LOG = sys.argv[1]


def _timed_init(self: Any, *args: Any, **kwargs: Any) -> None:
    start = time.perf_counter()
    _popen_init(self, *args, **kwargs)
    _SPENT["spawn"] += time.perf_counter() - start
    _SPENT["n"] += 1


def _timed_communicate(self: Any, *args: Any, **kwargs: Any) -> Any:
    start = time.perf_counter()
    try:
        return _communicate(self, *args, **kwargs)
    finally:
        _SPENT["wait"] += time.perf_counter() - start


def _record(code: int) -> None:
    seconds = {k: v * 1000 for k, v in _SPENT.items() if k != "n"}
    line = {"total": (time.perf_counter() - _T0) * 1000, **seconds, "n": int(_SPENT["n"])}
    with open(_LOG, "a") as log:
        log.write(json.dumps({**line, "code": code}) + "\n")
    _exit(code)


def main() -> int:
    subprocess.Popen.__init__ = _timed_init  # type: ignore[method-assign]
    subprocess.Popen.communicate = _timed_communicate  # type: ignore[method-assign]
    os._exit = _record  # type: ignore[assignment]  # the doors end with os._exit (ADR 0035)
    door, *args = sys.argv[2:]
    # Imported once git is timed: a door starts git while it imports (ADR 0035).
    if door == "hook":
        from twokey.doors._entry import process_main  # noqa: PLC0415

        return process_main(args[2:])  # after "-m twokey.git"
    sys.argv = ["twokey", *args]
    from twokey.cli import main as cli  # noqa: PLC0415

    return cli()


if __name__ == "__main__":
    sys.exit(main())
