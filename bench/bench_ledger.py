"""Ledger benchmark: append throughput, whole-log verification, proof latency.

The floor is measured in the same run: raw hashlib SHA-256 over the same leaves and nodes.

    .venv/bin/python bench/bench_ledger.py               # 1,000,000 entries (a few minutes)
    .venv/bin/python bench/bench_ledger.py --quick       # 20,000 entries
    TWOKEY_BENCH_POSTGRES=postgresql://root@127.0.0.1:5432/test?schema=bench ... (PostgreSQL)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import tempfile
import time
from pathlib import Path

from twokey.ledger import open_ledger, verify_consistency, verify_inclusion

BATCH = 1000


def floor_seconds(datas: list[bytes]) -> float:
    """Raw hashlib over the same leaves and every interior node of the tree."""
    start = time.perf_counter()
    level = [hashlib.sha256(b"\x00" + d).digest() for d in datas]
    while len(level) > 1:
        nxt = [hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
               for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return time.perf_counter() - start


def bench_append(url: str, datas: list[bytes]) -> float:
    with open_ledger(url) as ledger:
        start = time.perf_counter()
        for i in range(0, len(datas), BATCH):
            ledger.append_raw(datas[i : i + BATCH])
        return len(datas) / (time.perf_counter() - start)


def bench_proofs(url: str, size: int, rounds: int) -> tuple[float, float]:
    with open_ledger(url) as ledger:
        _, head = ledger.head()
        inclusion, consistency = [], []
        for i in range(rounds):
            index = (i * 7919) % size
            start = time.perf_counter()
            proof = ledger.inclusion_proof(index, size)
            inclusion.append(time.perf_counter() - start)
            data = ledger.entry(index)
            verify_inclusion(hashlib.sha256(b"\x00" + data).digest(), index, size, proof, head)
            old = max(1, (i * 104729) % size)
            start = time.perf_counter()
            cproof = ledger.consistency_proof(old, size)
            consistency.append(time.perf_counter() - start)
            verify_consistency(old, size, cproof, ledger.root_at(old), head)
    return statistics.median(inclusion) * 1000, statistics.median(consistency) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    count = 20_000 if args.quick else 1_000_000
    datas = [b'{"v":1,"kind":"decision","body":{"n":%d,"ref":"refs/heads/main"}}' % i
             for i in range(count)]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite://{Path(tmp) / 'bench.db'}"
        rate = bench_append(url, datas)
        print(f"append (SQLite, durable, batches of {BATCH}): {rate:,.0f} entries/s")
        pg = os.environ.get("TWOKEY_BENCH_POSTGRES")
        if pg:
            pg_count = min(count, 100_000)
            print(f"append (PostgreSQL, batches of {BATCH}, {pg_count:,} entries): "
                  f"{bench_append(pg, datas[:pg_count]):,.0f} entries/s")
        with open_ledger(url) as ledger:
            start = time.perf_counter()
            ledger.verify()
            verify_s = time.perf_counter() - start
        floor = floor_seconds(datas)
        print(f"verify {count:,} entries: {verify_s:.2f} s; floor (raw hashlib, same leaves and "
              f"nodes): {floor:.2f} s; ratio {verify_s / floor:.2f}x")
        inc, con = bench_proofs(url, count, 50 if args.quick else 200)
        print(f"proofs at {count:,}: inclusion median {inc:.3f} ms, consistency median "
              f"{con:.3f} ms")


if __name__ == "__main__":
    main()
