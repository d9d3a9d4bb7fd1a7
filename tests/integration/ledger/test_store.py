"""One test suite for both stores: SQLite (one file) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from twokey.ledger import (
    Ledger,
    LedgerCorruptError,
    ProofError,
    generate_signer,
    leaf_hash,
    open_ledger,
    root,
    verify_consistency,
    verify_inclusion,
)
from twokey.ledger._store import SqlStore

Opener = Callable[[], Ledger]


@pytest.fixture(params=["sqlite", "postgres"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path / 'ledger.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    return lambda: open_ledger(url)


def _sql(ledger: Ledger, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Write straight into the database, as someone with database access could."""
    store = ledger.store
    assert isinstance(store, SqlStore)
    store._exec(sql, params)
    store.conn.commit()


def _fill(ledger: Ledger, count: int, batch: int = 7) -> list[bytes]:
    datas = [f'{{"n":{i}}}'.encode() for i in range(count)]
    for start in range(0, count, batch):
        ledger.append_raw(datas[start : start + batch])
    return datas


def test_append_root_and_proofs_agree_with_the_pure_tree(opener: Opener) -> None:
    with opener() as ledger:
        datas = _fill(ledger, 45)
        leaves = [leaf_hash(d) for d in datas]
        size, head = ledger.head()
        assert (size, head) == (45, root(leaves))
        assert [d for _, d in ledger.entries()] == datas
        for index in (0, 1, 22, 44):
            verify_inclusion(leaves[index], index, size, ledger.inclusion_proof(index), head)
        for old in (0, 1, 8, 13, 44, 45):
            verify_consistency(old, size, ledger.consistency_proof(old), root(leaves[:old]), head)
        assert ledger.root_at(13) == root(leaves[:13])


def test_checkpoints_and_verify(opener: Opener) -> None:
    signer = generate_signer("test.example")
    with opener() as ledger:
        _fill(ledger, 10)
        ledger.checkpoint(signer)
        _fill(ledger, 5)
        ledger.checkpoint(signer)
        report = ledger.verify(signer.verifier())
        assert (report.size, report.checkpoints) == (15, 2)


def test_reopen_keeps_everything(opener: Opener) -> None:
    with opener() as ledger:
        datas = _fill(ledger, 20)
    with opener() as ledger:
        assert ledger.size() == 20
        assert ledger.entry(19) == datas[19]


def test_bad_proof_arguments(opener: Opener) -> None:
    with opener() as ledger:
        _fill(ledger, 3)
        with pytest.raises(ProofError):
            ledger.inclusion_proof(3)


TAMPER = {
    "edit": ("UPDATE twokey_entries SET data = ? WHERE idx = 6", (b'{"n":666}',), 6),
    "delete": ("DELETE FROM twokey_entries WHERE idx = 4", (), 4),
    "reorder": (
        "UPDATE twokey_entries SET data = CASE idx WHEN 2 THEN ? ELSE ? END WHERE idx IN (2, 3)",
        (b'{"n":3}', b'{"n":2}'),
        2,
    ),
    "insert": ("INSERT INTO twokey_entries (idx, data) VALUES (12, ?)", (b'{"n":12}',), 12),
    "truncate": ("DELETE FROM twokey_entries WHERE idx >= 9", (), 9),
}


@pytest.mark.parametrize(("sql", "params", "first_bad"), TAMPER.values(), ids=TAMPER.keys())
def test_tampering_names_the_first_bad_index(
    opener: Opener, sql: str, params: tuple[bytes, ...], first_bad: int
) -> None:
    signer = generate_signer("test.example")
    with opener() as ledger:
        _fill(ledger, 12)
        ledger.checkpoint(signer)
        _sql(ledger, sql, params)
        with pytest.raises(LedgerCorruptError) as caught:
            ledger.verify(signer.verifier())
        assert caught.value.first_bad_index == first_bad


def test_a_consistent_rewrite_is_caught_by_the_old_checkpoint(opener: Opener) -> None:
    """An attacker who rewrites an entry *and* its hashes still cannot match a checkpoint."""
    signer = generate_signer("test.example")
    with opener() as ledger:
        datas = _fill(ledger, 8)
        ledger.checkpoint(signer)
        forged = b'{"n":"forged"}'
        _sql(ledger, "UPDATE twokey_entries SET data = ? WHERE idx = 1", (forged,))
        _sql(
            ledger,
            "UPDATE twokey_nodes SET hash = ? WHERE level = 0 AND idx = 1",
            (leaf_hash(forged),),
        )
        leaves = [leaf_hash(d) for d in datas]
        leaves[1] = leaf_hash(forged)
        _sql(ledger, "UPDATE twokey_head SET root = ?", (root(leaves),))
        with pytest.raises(LedgerCorruptError, match="no longer produce the checkpoint of size 8"):
            ledger.verify(signer.verifier())


def test_a_fork_is_detected(opener: Opener) -> None:
    signer = generate_signer("test.example")
    with opener() as ledger:
        _fill(ledger, 4)
        ledger.checkpoint(signer)
        _sql(
            ledger,
            "INSERT INTO twokey_checkpoints (size, root, note) "
            "SELECT size, ?, note FROM twokey_checkpoints",
            (b"\x00" * 32,),
        )
        with pytest.raises(LedgerCorruptError, match="the log forked"):
            ledger.verify()
