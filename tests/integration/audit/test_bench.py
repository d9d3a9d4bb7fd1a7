"""The audit benchmark runs (``--quick``: 2,000 commits) and prints its results row."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import REPO_ROOT


def test_quick_bench_prints_a_results_row() -> None:
    out = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / "bench_audit.py"), "--quick"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    row = re.search(
        r"^\| 2,000 \| ([\d.]+) s \| ([\d.]+) s \| ([\d.]+)x \| -?\d+ \| (\d+) MiB \| \d+ MiB \| "
        r"\d+ MiB \| ([\d.]+) s \| ([\d.]+)x \| \d+ MiB \|$",
        out,
        re.M,
    )
    assert row is not None, out
    floor, audit, ratio, rss, script, script_ratio = (float(g) for g in row.groups())
    # Both floors are measured (their order is the machine's noise at this size, not a fact).
    assert script > 0
    assert 0 < floor < audit
    assert script_ratio > 0
    assert ratio > 1
    assert rss < 200  # a 2,000-commit audit is the interpreter and its imports
