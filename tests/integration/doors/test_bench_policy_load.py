"""The policy-load benchmark runs (quick mode), so it does not rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench" / "bench_policy_load.py"


def test_quick_mode_reports_every_variant() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, check=True
    )
    for label in ("python -c pass", "compile from YAML", "JSON cache", "unpickle"):
        assert label in done.stdout
