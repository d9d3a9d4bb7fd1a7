"""The policy-load and deploy-check benchmarks run (quick mode), so they do not rot."""

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


def test_deploy_check_bench_quick_mode_runs_an_allowed_check() -> None:
    bench = BENCH.with_name("bench_deploy_check.py")
    done = subprocess.run(
        [sys.executable, str(bench), "--quick"], capture_output=True, text=True, check=True
    )
    assert "twokey deploy check" in done.stdout
    assert "git processes per check" in done.stdout


def test_gateway_bench_quick_mode_runs_checks_and_the_floor() -> None:
    bench = BENCH.with_name("bench_gateway.py")
    done = subprocess.run(
        [sys.executable, str(bench), "--quick"], capture_output=True, text=True, check=True
    )
    assert "fixed rate: 200 requests" in done.stdout
    assert "errors 0, unexpected verdicts 0" in done.stdout
    assert "of the floor" in done.stdout
