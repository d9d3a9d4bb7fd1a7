"""Where the public transparency-log vectors live: ``<repo>/../shared/vectors/tlog``.

``TWOKEY_SHARED_DIR`` overrides the ``shared/`` folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED = Path(os.environ.get("TWOKEY_SHARED_DIR") or REPO_ROOT.parent / "shared")
TLOG = SHARED / "vectors" / "tlog"
MISSING = f"transparency-log vectors not found at {TLOG} (set TWOKEY_SHARED_DIR)"


def load(relative: str) -> Any:
    """Parse one JSON vector file."""
    return json.loads((TLOG / relative).read_text())
