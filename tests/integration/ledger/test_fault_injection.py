"""Fault injection over both stores (issue 14): kill door-like appenders, then tamper at random.

1. Appenders that behave like the doors (a batch, then a signed checkpoint) run as real
   processes, two at a time, and are SIGKILLed at random moments: the log still verifies
   against the trusted key and every acknowledged entry is there, byte for byte.
2. A log of :data:`SIZE` entries, signed after every batch, is damaged by each fault kind at
   :data:`PLACEMENTS` random places (edit, delete, swap, truncate rows, delete the head,
   rewrite the log wholesale, ...): ``verify`` detects every case and names the first bad index
   exactly where one exists (or, for a rewrite that recomputed a leaf hash, the first entry under
   the first stored hash that disagrees: a lower bound). docs/ledger.md reports the counts.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.integration.ledger.conftest import REPO_ROOT
from tests.integration.ledger.signing_appender import payload
from twokey.ledger import (
    EMPTY_ROOT,
    Ledger,
    LedgerCorruptError,
    generate_signer,
    leaf_hash,
    open_ledger,
)
from twokey.ledger._sql import SqlStore

SIGNER = generate_signer("faults.test")
KILL_ROUNDS = {"sqlite": 6, "postgres": 4}
SIZE = 40  # 32 + 8: every entry sits under a stored interior node
PLACEMENTS = 6


def _sql(ledger: Ledger, sql: str, params: tuple[Any, ...] = ()) -> Any:
    store = ledger.store
    assert isinstance(store, SqlStore)
    return store._exec(sql, params)


# -- 1. killed appenders ------------------------------------------------------------------


def _spawn(url: str, name: str, key: Path, batch: int) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "tests.integration.ledger.signing_appender", url, name]
    return subprocess.Popen(
        [*argv, "1000000", str(batch), str(key)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )


def _acked(name: str, lines: list[str]) -> dict[int, bytes]:
    """index -> the exact bytes the child was told were committed."""
    out: dict[int, bytes] = {}
    for line in lines:
        parts = line.split()
        if len(parts) == 3:
            first, last, start = map(int, parts)
            out.update((i, payload(name, start + i - first)) for i in range(first, last + 1))
    return out


def test_killed_door_appenders_lose_nothing_acknowledged(ledger_url: str, tmp_path: Path) -> None:
    key = tmp_path / "ledger.key"
    key.write_text(SIGNER.text() + "\n")
    backend = "sqlite" if ledger_url.startswith("sqlite") else "postgres"
    rng = random.Random(1414)
    acked: dict[int, bytes] = {}
    with open_ledger(ledger_url):
        pass  # the schema exists before the race
    for round_ in range(KILL_ROUNDS[backend]):
        names = [f"r{round_}{side}" for side in "ab"]
        children = [_spawn(ledger_url, n, key, rng.choice([1, 5, 40, 200])) for n in names]
        firsts = [child.stdout.readline() for child in children if child.stdout]  # appending
        for child in children:  # each killed at its own random moment
            time.sleep(rng.uniform(0.0, 0.06))
            child.send_signal(signal.SIGKILL)
        for name, first, child in zip(names, firsts, children, strict=True):
            out, _ = child.communicate()
            acked.update(_acked(name, [first, *out.splitlines()]))
        with open_ledger(ledger_url) as ledger:
            report = ledger.verify(SIGNER.verifier())
            stored = dict(ledger.entries())
        assert report.signed > 0
        lost = {i for i, data in acked.items() if stored.get(i) != data}
        assert not lost, f"acknowledged entries lost or changed: {sorted(lost)[:5]}"
    assert len(acked) > KILL_ROUNDS[backend] * 2


# -- 2. tampering -----------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """What verify must say: the first bad index (exact, or an upper bound), and a phrase."""

    index: int | None
    phrase: str = ""
    bound: bool = False  # the named index may be lower (a node over it), never higher


def _reset(ledger: Ledger) -> None:
    for table in ("twokey_entries", "twokey_nodes", "twokey_checkpoints", "twokey_head"):
        _sql(ledger, f"DELETE FROM {table}")
    _sql(
        ledger,
        "INSERT INTO twokey_head (id, size, root, frontier) VALUES (1, 0, ?, ?)",
        (EMPTY_ROOT, b""),
    )


def _datas() -> list[bytes]:
    return [payload("door", n) for n in range(SIZE)]


def _fill(ledger: Ledger, rng: random.Random, datas: list[bytes], sign: bool = True) -> None:
    """Append like the doors: random batches, a signed checkpoint after each."""
    start = 0
    while start < len(datas):
        end = min(len(datas), start + rng.randint(1, 9))
        ledger.append_raw(datas[start:end])
        if sign:
            ledger.checkpoint(SIGNER)
        start = end


def _rewrite(ledger: Ledger, datas: list[bytes]) -> None:
    """Someone with database access rebuilds entries, nodes and head; checkpoints stay."""
    for table in ("twokey_entries", "twokey_nodes"):
        _sql(ledger, f"DELETE FROM {table}")
    _sql(ledger, "UPDATE twokey_head SET size = 0, root = ?, frontier = ?", (EMPTY_ROOT, b""))
    ledger.append_raw(datas)


def _edit(ledger: Ledger, rng: random.Random) -> Expect:
    i = rng.randrange(SIZE)
    _sql(ledger, "UPDATE twokey_entries SET data = ? WHERE idx = ?", (b'{"forged":1}', i))
    return Expect(i, "does not match its recorded hash")


def _delete(ledger: Ledger, rng: random.Random) -> Expect:
    i = rng.randrange(SIZE)
    _sql(ledger, "DELETE FROM twokey_entries WHERE idx = ?", (i,))
    return Expect(i, "is missing")


def _swap_data(ledger: Ledger, rng: random.Random) -> Expect:
    i, j = sorted(rng.sample(range(SIZE), 2))
    datas = _datas()
    sql = "UPDATE twokey_entries SET data = ? WHERE idx = ?"
    _sql(ledger, sql, (datas[j], i))
    _sql(ledger, sql, (datas[i], j))
    return Expect(i, "does not match its recorded hash")


def _swap_rows(ledger: Ledger, rng: random.Random) -> Expect:
    """Two whole rows (data and leaf hash) trade places: reordering history."""
    i, j = sorted(rng.sample(range(SIZE), 2))
    sql = "UPDATE twokey_entries SET idx = ? WHERE idx = ?"
    _sql(ledger, sql, (-1, i))
    _sql(ledger, sql, (i, j))
    _sql(ledger, sql, (j, -1))
    return Expect(i, "", bound=True)


def _truncate_rows(ledger: Ledger, rng: random.Random) -> Expect:
    k = rng.randrange(1, SIZE)
    _sql(ledger, "DELETE FROM twokey_entries WHERE idx >= ?", (k,))
    return Expect(k, "is missing")


def _truncate_consistently(ledger: Ledger, rng: random.Random) -> Expect:
    k = rng.randrange(1, SIZE)
    _rewrite(ledger, _datas()[:k])
    return Expect(k, "truncated")


def _delete_head(ledger: Ledger, rng: random.Random) -> Expect:
    del rng
    _sql(ledger, "DELETE FROM twokey_head")
    return Expect(None, "tree head row (twokey_head, id 1) is missing")


def _rewrite_wholesale(ledger: Ledger, rng: random.Random) -> Expect:
    datas = _datas()
    datas[rng.randrange(SIZE)] = b'{"forged":"history"}'
    _rewrite(ledger, datas)
    return Expect(None, "no longer produce the checkpoint")


def _entry_and_leaf(ledger: Ledger, rng: random.Random) -> Expect:
    i = rng.randrange(SIZE)
    forged = b'{"forged":"with its hash"}'
    _sql(
        ledger,
        "UPDATE twokey_entries SET data = ?, leaf = ? WHERE idx = ?",
        (forged, leaf_hash(forged), i),
    )
    return Expect(i, "was rewritten together with its leaf hash", bound=True)


def _edit_node(ledger: Ledger, rng: random.Random) -> Expect:
    rows = _sql(ledger, "SELECT level, idx FROM twokey_nodes ORDER BY level, idx").fetchall()
    level, index = rng.choice(rows)
    _sql(
        ledger,
        "UPDATE twokey_nodes SET hash = ? WHERE level = ? AND idx = ?",
        (b"\x07" * 32, level, index),
    )
    return Expect(int(index) << int(level), "does not match them")


def _insert_beyond(ledger: Ledger, rng: random.Random) -> Expect:
    extra = payload("intruder", rng.randrange(100))
    _sql(
        ledger,
        "INSERT INTO twokey_entries (idx, data, leaf) VALUES (?, ?, ?)",
        (SIZE, extra, leaf_hash(extra)),
    )
    return Expect(SIZE, "beyond the tree head")


def _edit_checkpoint(ledger: Ledger, rng: random.Random) -> Expect:
    sizes = [r[0] for r in _sql(ledger, "SELECT size FROM twokey_checkpoints").fetchall()]
    size = rng.choice(sizes)
    _sql(ledger, "UPDATE twokey_checkpoints SET root = ? WHERE size = ?", (b"\x01" * 32, size))
    return Expect(None, "checkpoint")


FAULTS: dict[str, Callable[[Ledger, random.Random], Expect]] = {
    "edit-entry": _edit,
    "delete-entry": _delete,
    "swap-entry-data": _swap_data,
    "swap-rows": _swap_rows,
    "truncate-rows": _truncate_rows,
    "truncate-consistently": _truncate_consistently,
    "delete-head": _delete_head,
    "rewrite-wholesale": _rewrite_wholesale,
    "rewrite-entry-and-leaf": _entry_and_leaf,
    "edit-interior-node": _edit_node,
    "insert-beyond-head": _insert_beyond,
    "edit-checkpoint": _edit_checkpoint,
}


def test_every_injected_fault_is_detected_and_named(ledger_url: str) -> None:
    rng = random.Random(2026)
    named = bounded = unnamed = 0
    with open_ledger(ledger_url) as ledger:
        for kind, inject in FAULTS.items():
            for placement in range(PLACEMENTS):
                _reset(ledger)
                _fill(ledger, rng, _datas())
                assert ledger.verify(SIGNER.verifier()).signed == SIZE
                expect = inject(ledger, rng)
                with pytest.raises(LedgerCorruptError) as caught:
                    ledger.verify(SIGNER.verifier())
                error, where = caught.value, f"{kind} #{placement}"
                assert expect.phrase in error.message, (where, error.message)
                if expect.index is None:
                    unnamed += 1
                elif expect.bound:
                    assert error.first_bad_index is not None, (where, error.message)
                    assert error.first_bad_index <= expect.index, (where, error.message)
                    bounded += 1
                else:
                    assert error.first_bad_index == expect.index, (where, error.message)
                    named += 1
    # the counts docs/ledger.md reports (per store)
    assert (named, bounded, unnamed) == (7 * PLACEMENTS, 2 * PLACEMENTS, 3 * PLACEMENTS)
