"""The engine benchmark still runs (``--quick``), so that it never rots."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "bench_engine.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_engine", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_bench_runs_and_reports(capsys: pytest.CaptureFixture[str]) -> None:
    assert _bench().main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "200 people, 40 groups, 30 branch and path rules" in out
    match = re.search(r"evaluate: median ([\d.]+) us, p99 ([\d.]+) us, ([\d,]+) decisions/s", out)
    assert match is not None, out
    # A loose bound: the machine is shared; this catches an order-of-magnitude regression only.
    assert float(match.group(1)) < 2_000
    assert "policy load+compile: median" in out
