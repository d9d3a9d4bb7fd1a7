"""Group commit: deliveries from many threads, each recorded once before its answer."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.integration.forge._send import PAYLOADS, SECRETS, deliveries_recorded, send_github
from twokey.errors import InfrastructureError
from twokey.forge import BatchedLedger, ForgeStore, Receiver


def test_concurrent_deliveries_are_each_recorded_once(database_url: str) -> None:
    body = (PAYLOADS / "github/push/payload.json").read_bytes()
    store = ForgeStore(database_url)
    with BatchedLedger(database_url) as ledger:
        rx = Receiver(SECRETS, store, ledger.append)
        ids = [f"d-{i % 60}" for i in range(120)]  # every id sent twice, from 8 threads
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda d: send_github(rx, "push", body, d).status, ids))
    assert sorted(statuses) == [202] * 60 + [409] * 60
    recorded = sorted(r.delivery for r in deliveries_recorded(database_url))
    assert recorded == sorted(f"d-{i}" for i in range(60))


def test_a_ledger_that_cannot_be_opened_fails_at_start(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(InfrastructureError), BatchedLedger(f"sqlite://{tmp_path / 'dir.db'}"):
        pass


def test_after_close_nothing_is_appended(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'l.db'}"
    batched = BatchedLedger(url)
    with batched:
        pass
    with pytest.raises(InfrastructureError, match="not running"):
        batched.append([])
