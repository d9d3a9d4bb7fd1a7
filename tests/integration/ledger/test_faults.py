"""Crashes and concurrent appenders leave one consistent log with nothing acknowledged lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from twokey.ledger import open_ledger


def _spawn(url: str, name: str, count: int, batch: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration.ledger.appender",
            url,
            name,
            str(count),
            str(batch),
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )


def test_sigkill_during_batched_appends_loses_nothing_acknowledged(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'crash.db'}"
    rng = random.Random(1234)
    acked = -1
    for round_ in range(15):
        child = _spawn(url, f"r{round_}", 100_000, 50)
        assert child.stdout is not None
        first = child.stdout.readline()  # it is appending now
        assert first.strip().isdigit()
        time.sleep(rng.uniform(0.01, 0.15))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate()
        lines = [first, *out.splitlines()]
        acked = max(acked, *(int(x) for x in lines if x.strip().isdigit()))
        with open_ledger(url) as ledger:
            assert ledger.size() >= acked + 1
            ledger.verify()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_four_processes_append_forty_thousand(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite://{tmp_path / 'many.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    with open_ledger(url):
        pass  # create the schema once, before the race
    children = [_spawn(url, f"w{i}", 10_000, 100) for i in range(4)]
    for child in children:
        child.communicate(timeout=300)
        assert child.returncode == 0
    with open_ledger(url) as ledger:
        report = ledger.verify()
        assert report.size == 40_000
        datas = [data for _, data in ledger.entries()]
    assert len(set(datas)) == 40_000  # no duplicate, no gap (verify checked contiguity)
