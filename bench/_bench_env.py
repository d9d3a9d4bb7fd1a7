"""The environment every whole-process benchmark runs git and twokey in."""

from __future__ import annotations

import os
import tempfile

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
