"""The organisation audit benchmark runs (``--quick``: 3 x 1,000 commits) and prints its row."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import REPO_ROOT


def test_quick_org_bench_prints_a_results_row() -> None:
    out = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / "bench_audit_org.py"), "--quick"],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    row = re.search(
        r"^\| 3 x 1,000 \| ([\d.]+) s \| ([\d.]+) s \([\d.]+x\) \| ([\d.]+) s \([\d.]+x\) \| "
        r"(\d+) MiB \| (\d+) MiB \|$",
        out,
        re.M,
    )
    assert row is not None, out
    loop, one, many, parent, largest = (float(g) for g in row.groups())
    assert min(loop, one, many) > 0
    assert 0 < parent <= largest * 2  # the parent holds summaries, not histories
