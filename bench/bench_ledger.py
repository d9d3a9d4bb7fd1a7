"""Ledger benchmark: durable batched appends, whole-log verification, proofs at scale.

Reports, in one run on one machine (so ratios are meaningful on a noisy shared box):

* append throughput into SQLite (WAL, ``synchronous=FULL``, one commit per batch) and
  PostgreSQL (one transaction per batch), in entries per second;
* ``Ledger.verify()`` over a log of ``--entries`` entries (default 1,000,000), and the floor:
  raw ``hashlib`` SHA-256 over the same leaves and the n - 1 interior nodes, in memory;
* inclusion and consistency proof generation at that size (median and p99 of 500 each),
  from the stored subtree hashes (PostgreSQL: at the appended size).

    .venv/bin/python bench/bench_ledger.py            # full run (1,000,000 entries)
    .venv/bin/python bench/bench_ledger.py --quick    # smoke run (seconds)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from twokey.errors import InfrastructureError
from twokey.ledger import Ledger, open_ledger, verify_consistency, verify_inclusion

POSTGRES_URL = os.environ.get("TWOKEY_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test")
PROOFS = {"full": 500, "quick": 50}


def _entries(start: int, count: int) -> list[bytes]:
    """Realistic decision-sized entries (~240 bytes of canonical JSON)."""
    return [
        b'{"body":{"allowed":true,"door":"hook","new":"%040x","old":"%040x",'
        b'"pusher":"alice@example.com","ref":"refs/heads/main","repository":"acme/app"},'
        b'"kind":"decision","time":"2026-11-25T12:00:00.000000Z","v":1}' % (i, i + 1)
        for i in range(start, start + count)
    ]


def _append(ledger: Ledger, count: int, batch: int) -> float:
    """Entries per second, appending ``count`` entries in batches of ``batch``."""
    elapsed = 0.0
    for start in range(0, count, batch):
        datas = _entries(ledger.size(), min(batch, count - start))
        began = time.perf_counter()
        ledger.append_raw(datas)
        elapsed += time.perf_counter() - began
    return count / elapsed


def _floor(datas: list[bytes]) -> float:
    """Seconds for raw hashlib over the same n leaves and n - 1 nodes (RFC 6962 §2.1)."""
    sha = hashlib.sha256
    began = time.perf_counter()
    level = [sha(b"\x00" + d).digest() for d in datas]
    while len(level) > 1:
        nxt = [sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return time.perf_counter() - began


def _timed(action: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and p99 of ``action`` in milliseconds."""
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        action()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def _proofs(ledger: Ledger, rng: random.Random, runs: int) -> dict[str, tuple[float, float]]:
    size, head = ledger.head()
    index = rng.randrange(size)
    old = rng.randrange(1, size)
    leaf = hashlib.sha256(b"\x00" + ledger.entry(index)).digest()
    verify_inclusion(leaf, index, size, ledger.inclusion_proof(index), head)
    verify_consistency(old, size, ledger.consistency_proof(old), ledger.root_at(old), head)
    return {
        "inclusion": _timed(lambda: ledger.inclusion_proof(rng.randrange(size)), runs),
        "consistency": _timed(lambda: ledger.consistency_proof(rng.randrange(1, size)), runs),
    }


def _postgres(
    count: int, batch: int, runs: int
) -> tuple[float, dict[str, tuple[float, float]]] | None:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        ledger = open_ledger(f"{POSTGRES_URL}{sep}schema={schema}")
    except InfrastructureError as exc:
        print(f"PostgreSQL skipped: {exc.message}", file=sys.stderr)
        return None
    try:
        rate = _append(ledger, count, batch)
        return rate, _proofs(ledger, random.Random(2), runs)
    finally:
        ledger.store._exec(f"DROP SCHEMA {schema} CASCADE")  # type: ignore[attr-defined]
        ledger.close()


def run(entries: int, append_count: int, batch: int, workdir: Path, runs: int) -> list[str]:
    """Run every measurement; returns the Markdown table rows."""
    rows = []
    with open_ledger(workdir / "append.db") as ledger:
        rate = _append(ledger, append_count, batch)
    rows.append(f"| append, SQLite, durable, batch {batch} | {rate:,.0f} entries/s | ≥ 20,000 |")
    pg = _postgres(append_count, batch, runs)
    if pg is not None:
        rows.append(f"| append, PostgreSQL, batch {batch} | {pg[0]:,.0f} entries/s | — |")

    began = time.perf_counter()
    with open_ledger(workdir / "big.db") as ledger:
        _append(ledger, entries, 10_000)
    build = time.perf_counter() - began
    rows.append(f"| build a log of {entries:,} (batches of 10,000) | {build:.1f} s | — |")

    with sqlite3.connect(workdir / "big.db") as conn:
        datas = [bytes(r[0]) for r in conn.execute("SELECT data FROM twokey_entries ORDER BY idx")]
    floor = min(_floor(datas) for _ in range(2))
    del datas
    with open_ledger(workdir / "big.db") as ledger:
        began = time.perf_counter()
        report = ledger.verify()
        took = time.perf_counter() - began
        assert report.size == entries
        proofs = _proofs(ledger, random.Random(1), runs)
    rows.append(
        f"| verify {entries:,} entries | {took:.2f} s = {took / floor:.1f}× floor "
        f"(hashlib floor {floor:.2f} s) | < 15 s |"
    )
    for kind, (median, p99) in proofs.items():
        rows.append(
            f"| {kind} proof at {entries:,}, SQLite | median {median:.3f} ms, "
            f"p99 {p99:.3f} ms | < 2 ms |"
        )
    if pg is not None:
        for kind, (median, p99) in pg[1].items():
            rows.append(
                f"| {kind} proof at {append_count:,}, PostgreSQL | median {median:.3f} ms, "
                f"p99 {p99:.3f} ms | < 2 ms |"
            )
    return rows


def main() -> None:
    """Parse the options, run, print the Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument("--entries", type=int, default=1_000_000, help="log size for verify")
    parser.add_argument("--append", type=int, default=200_000, help="entries appended")
    parser.add_argument("--batch", type=int, default=1_000, help="entries per append")
    args = parser.parse_args()
    if args.quick:
        args.entries, args.append = 5_000, 2_000
    runs = PROOFS["quick" if args.quick else "full"]
    with tempfile.TemporaryDirectory(prefix="twokey-bench-") as tmp:
        rows = run(args.entries, args.append, args.batch, Path(tmp), runs)
    print(
        f"machine: {os.cpu_count()} CPU, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}\n"
    )
    print("| measurement | result | target |\n|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
