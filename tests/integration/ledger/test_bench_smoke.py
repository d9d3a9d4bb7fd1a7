"""The ledger benchmarks still run (``--quick``), so that they do not rot."""

from __future__ import annotations

import subprocess
import sys

from tests.integration.ledger.conftest import REPO_ROOT


def _quick(script: str) -> str:
    """The output of ``bench/<script> --quick``, which must succeed."""
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / script), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_bench_ledger_quick_runs() -> None:
    out = _quick("bench_ledger.py")
    assert "| append, SQLite, durable, batch 1000 |" in out
    assert "| inclusion proof at 5,000, SQLite |" in out


def test_bench_tiles_quick_runs() -> None:
    out = _quick("bench_tiles.py")
    assert "tile() full level-1 tile" in out
    assert "follow() over the files" in out
