"""tlog-tiles benchmark: serving tiles from the store, publishing them, following a log.

Reports, in one run on one machine (so ratios are meaningful on a noisy shared box), over a
SQLite log of ``--entries`` entries (default 1,000,000) with a signed checkpoint:

* ``tile()`` per request (median and p99) for the checkpoint, a full level-0 tile, a full
  level-1 tile, a full entry bundle and a partial tile, each against its floor in the same
  run: the same rows read by one raw ``sqlite3`` range query (``Ledger.head()``, one row,
  for the checkpoint);
* ``write_tiles`` (``ledger tiles --out``) for the whole log;
* ``follow()`` over the written files (every bundle and tile checked) against the floor:
  raw ``hashlib`` SHA-256 over the same leaves and interior nodes, in memory.

    .venv/bin/python bench/bench_tiles.py            # full run (1,000,000 entries)
    .venv/bin/python bench/bench_tiles.py --quick    # smoke run (seconds)
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_ledger import _entries, _floor, _timed  # the bench directory: scripts run from it
from twokey.ledger import (
    Ledger,
    TileRef,
    follow,
    generate_signer,
    open_ledger,
    tile,
    write_tiles,
)


def _fill(ledger: Ledger, count: int) -> None:
    for start in range(0, count, 10_000):
        ledger.append_raw(_entries(start, min(10_000, count - start)))


_RAW = {  # the floor: the same rows by one raw sqlite3 range query, bytes joined
    "leaf": "SELECT leaf FROM twokey_entries WHERE idx >= ? AND idx < ? ORDER BY idx",
    "node": "SELECT hash FROM twokey_nodes WHERE level = 8 AND idx >= ? AND idx < ? ORDER BY idx",
    "data": "SELECT data FROM twokey_entries WHERE idx >= ? AND idx < ? ORDER BY idx",
}


def _requests(ledger: Ledger, database: Path, size: int, runs: int) -> None:
    raw = sqlite3.connect(database)
    last = size // 256
    cases = [
        ("checkpoint", "checkpoint", None, (0, 0)),
        ("full level-0 tile", TileRef(0, last // 2).path(), "leaf", (last // 2 * 256, 256)),
        ("full level-1 tile", TileRef(1, 0).path(), "node", (0, 256)),
        ("full entry bundle", TileRef(None, last // 2).path(), "data", (last // 2 * 256, 256)),
        (
            "partial level-0 tile",
            TileRef(0, last, size % 256).path(),
            "leaf",
            (last * 256, size % 256),
        ),
    ]
    for name, path, table, (start, width) in cases:
        assert tile(ledger, path) is not None, path
        if table is None:
            floor, _ = _timed(ledger.head, runs)
            floor_name = "Ledger.head()"
        else:
            floor, _ = _timed(_raw_range(raw, _RAW[table], start, start + width), runs)
            floor_name = f"raw {table} range"
        median, p99 = _timed(lambda path=path: tile(ledger, path), runs)  # type: ignore[misc]
        print(
            f"| tile() {name} | `{path}` | {median:.3f} ms | {p99:.3f} ms | "
            f"{floor_name} {floor:.3f} ms | {median / floor:.1f}x |"
        )
    raw.close()


def _raw_range(raw: sqlite3.Connection, sql: str, start: int, end: int) -> Callable[[], bytes]:
    return lambda: b"".join(row[0] for row in raw.execute(sql, (start, end)))


def _files(root: Path) -> Callable[[str, int], bytes | None]:
    def fetch(path: str, limit: int) -> bytes | None:
        target = root / path
        return target.read_bytes()[: limit + 1] if target.is_file() else None

    return fetch


def main() -> int:
    """Run the benchmark; print one line per measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="a few seconds: 70,000 entries")
    args = parser.parse_args()
    size = 70_000 if args.quick else args.entries
    runs = 20 if args.quick else args.runs
    print(f"python {platform.python_version()}, {size:,} entries, {runs} requests each")
    signer = generate_signer("bench.test")
    with tempfile.TemporaryDirectory() as tmp, open_ledger(Path(tmp) / "l.db") as ledger:
        _fill(ledger, size)
        ledger.checkpoint(signer)
        print("| request | path | median | p99 | floor (same run) | ratio |")
        print("|---|---|---|---|---|---|")
        _requests(ledger, Path(tmp) / "l.db", size, runs)
        began = time.perf_counter()
        written = write_tiles(ledger, Path(tmp) / "public")
        took = time.perf_counter() - began
        print(f"write_tiles: {written.tiles} tiles + {written.bundles} bundles in {took:.2f} s")
        began = time.perf_counter()
        follow(_files(Path(tmp) / "public"), signer.verifier())
        took = time.perf_counter() - began
        hashed = _floor(_entries(0, size))
        print(
            f"follow() over the files: {took:.2f} s = {took / hashed:.2f}x the raw hashlib "
            f"floor ({hashed:.2f} s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
