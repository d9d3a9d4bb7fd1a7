"""The environment every whole-process benchmark runs git and twokey in."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

ENV = {
    # A server installation has compiled bytecode (pip writes it); a development shell may
    # forbid writing it (PYTHONDONTWRITEBYTECODE), which would make every hook run compile
    # twokey from source. Bytecode goes to a private prefix so the source tree stays clean.
    **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    "PYTHONPYCACHEPREFIX": os.path.join(tempfile.gettempdir(), "twokey-bench-pycache"),
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "LC_ALL": "C",
    "GIT_AUTHOR_NAME": "Alice Smith",
    "GIT_AUTHOR_EMAIL": "alice@example.com",
    "GIT_COMMITTER_NAME": "Alice Smith",
    "GIT_COMMITTER_EMAIL": "alice@example.com",
}


def instructions(args: list[str], env: Mapping[str, str], cwd: Path | None = None) -> int:
    """Instructions (callgrind's Ir) of one run of ``args``: its own process, not git's. The
    same on every run, whatever the machine's load."""
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg", *args],
            cwd=cwd,
            env=dict(env),
            capture_output=True,
            text=True,
            check=False,
        )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"valgrind failed: {done.stderr[-500:]}")
    return int(found.group(1))
