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

from tests.integration.ledger.conftest import REPO_ROOT
from twokey.ledger import open_ledger

CRASH_ROUNDS = 20


def _spawn(url: str, name: str, count: int, batch: int) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "tests.integration.ledger.appender", url, name]
    return subprocess.Popen(
        [*argv, str(count), str(batch)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_sigkill_during_batched_appends_loses_nothing_acknowledged(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite://{tmp_path / 'crash.db'}"
        if backend == "sqlite"
        else str(request.getfixturevalue("pg_url"))
    )
    rounds = CRASH_ROUNDS if backend == "sqlite" else CRASH_ROUNDS // 3
    rng = random.Random(1234)
    acked = -1
    for round_ in range(rounds):
        child = _spawn(url, f"r{round_}", 1_000_000, rng.choice([1, 10, 50, 200]))
        assert child.stdout is not None
        first = child.stdout.readline()  # it is appending now
        assert first.strip().isdigit()
        time.sleep(rng.uniform(0.0, 0.08))
        child.send_signal(signal.SIGKILL)  # mid-batch, mid-commit or between: any moment
        out, _ = child.communicate()
        lines = [first, *out.splitlines()]
        acked = max(acked, *(int(x) for x in lines if x.strip().isdigit()))
        with open_ledger(url) as ledger:
            assert ledger.size() >= acked + 1  # nothing acknowledged is lost
            ledger.verify()  # and what is there is one consistent tree


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_four_processes_append_forty_thousand(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite://{tmp_path / 'many.db'}"
        if backend == "sqlite"
        else str(request.getfixturevalue("pg_url"))
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
    assert len(set(datas)) == 40_000  # no duplicate; verify proved no gap and no fork
