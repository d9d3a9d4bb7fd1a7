"""The ledger benchmarks still run (``--quick``), so that they do not rot."""

from __future__ import annotations

import subprocess
import sys

from tests.integration.ledger.conftest import REPO_ROOT


def test_bench_ledger_quick_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / "bench_ledger.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "| append, SQLite, durable, batch 1000 |" in done.stdout
    assert "| inclusion proof at 5,000, SQLite |" in done.stdout


def test_bench_tiles_quick_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / "bench_tiles.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "tile() full level-1 tile" in done.stdout
    assert "follow() over the files" in done.stdout
