"""Forge webhook benchmark: deliveries verified, de-duplicated and recorded per second.

Issue 12 asks for at least 500 webhook deliveries/s verified, de-duplicated and recorded with
SQLite on this machine, the forge API calls made off the request path. Measured in one run,
alternating rounds so load hits all alike:

* **floor**: what any receiver must do, raw: HMAC-SHA256 of the body and ``json.loads``;
* **receiver, ledger held open**: ``Receiver.receive`` (verify, parse the typed event, insert
  the delivery id, append a ``forge`` entry durably: one SQLite commit each, WAL,
  ``synchronous=FULL``) with the ledger opened once, as a gateway process holds it;
* **receiver, 16 threads, group commit**: the same from 16 threads at once (a gateway's
  worker threads), the ledger appended by ``BatchedLedger`` (one durable transaction for
  every delivery queued, each caller released once its entry is committed).

Bodies are real GitHub payloads (``push``, ``pull_request_review``) with a fresh delivery id
each; no handler (recorded only), so no forge API call is on the path.

    .venv/bin/python bench/bench_forge_webhooks.py              # 3 rounds of 1,000 each
    .venv/bin/python bench/bench_forge_webhooks.py --quick      # smoke run
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from twokey.forge import BatchedLedger, ForgeStore, Receiver, WebhookSecrets
from twokey.ledger import Entry, open_ledger

PAYLOADS = (
    Path(os.environ.get("TWOKEY_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
    / "forge-payloads/github"
)
SECRET = "bench-secret"
NOW = datetime(2026, 12, 4, 18, tzinfo=UTC)
Delivery = tuple[str, dict[str, str], bytes]


def _deliveries(count: int, round_: int) -> list[Delivery]:
    bodies = [
        ("push", (PAYLOADS / "push/payload.json").read_bytes()),
        (
            "pull_request_review",
            (PAYLOADS / "pull_request_review/submitted.payload.json").read_bytes(),
        ),
    ]
    out = []
    for i in range(count):
        event, body = bodies[i % 2]
        mac = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": f"r{round_}-d{i}",
            "X-Hub-Signature-256": f"sha256={mac}",
        }
        out.append((event, headers, body))
    return out


def _floor(deliveries: Sequence[Delivery]) -> float:
    began = time.perf_counter()
    for _, headers, body in deliveries:
        mac = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Hub-Signature-256"][7:], mac)
        json.loads(body)
    return len(deliveries) / (time.perf_counter() - began)


def _receiver(url: str, append: Callable[[Sequence[Entry]], object]) -> tuple[Receiver, ForgeStore]:
    store = ForgeStore(url)
    return Receiver(WebhookSecrets(github=SECRET), store, append), store


def _run(rx: Receiver, deliveries: Sequence[Delivery], threads: int = 1) -> float:
    def one(delivery: Delivery) -> None:
        receipt = rx.receive("github", delivery[1], delivery[2], NOW)
        assert receipt.status == 202, receipt.reason

    began = time.perf_counter()
    if threads == 1:  # in this thread: the held ledger's connection belongs to it
        for delivery in deliveries:
            one(delivery)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, deliveries))
    rate = len(deliveries) / (time.perf_counter() - began)
    again = rx.receive("github", deliveries[0][1], deliveries[0][2], NOW)
    assert again.status == 409  # de-duplicated
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    count, rounds = (100, 1) if args.quick else (args.deliveries, args.rounds)
    rates: dict[str, list[float]] = {"floor": [], "sequential": [], "16 threads": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            deliveries = _deliveries(count, r)
            rates["floor"].append(_floor(deliveries))
            url = f"sqlite://{Path(tmp) / f'held-{r}.db'}"
            with open_ledger(url) as ledger:
                rx, store = _receiver(url, ledger.append)
                rates["sequential"].append(_run(rx, deliveries))
                store.close()
            url = f"sqlite://{Path(tmp) / f'batched-{r}.db'}"
            with BatchedLedger(url) as batched:
                rx, store = _receiver(url, batched.append)
                rates["16 threads"].append(_run(rx, deliveries, threads=16))
                store.close()
            with open_ledger(url) as ledger:
                assert ledger.size() == count  # every delivery recorded, once
    load = os.getloadavg()[0]
    print(f"{count} deliveries x {rounds} rounds, load average {load:.1f}")
    floor = statistics.median(rates["floor"])
    for name, values in rates.items():
        med = statistics.median(values)
        print(
            f"{name:>13}: {med:9,.0f}/s median ({', '.join(f'{v:,.0f}' for v in values)}); "
            f"floor/this {floor / med:.1f}x"
        )


if __name__ == "__main__":
    main()
