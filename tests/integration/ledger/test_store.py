"""One test suite for both stores: SQLite (one file) and PostgreSQL (a schema per test)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from twokey.errors import ConfigError, InfrastructureError, UsageError
from twokey.ledger import (
    Checkpoint,
    Entry,
    EntryKind,
    Ledger,
    LedgerCorruptError,
    ProofError,
    generate_signer,
    inclusion_proof,
    leaf_hash,
    open_ledger,
    open_note,
    parse_entry,
    root,
    verify_consistency,
    verify_inclusion,
)
from twokey.ledger._sql import SqlStore

Opener = Callable[[], Ledger]
SIGNER = generate_signer("test.example")


@pytest.fixture
def opener(ledger_url: str) -> Opener:
    return lambda: open_ledger(ledger_url)


def _sql(ledger: Ledger, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Write straight into the database, as someone with database access could."""
    store = ledger.store
    assert isinstance(store, SqlStore)
    store._exec(sql, params)


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
        assert [i for i, _ in ledger.entries(40)] == [40, 41, 42, 43, 44]
        for index in range(45):
            proof = ledger.inclusion_proof(index)
            verify_inclusion(leaves[index], index, size, proof, head)
            for old in (index, index + 1):
                proof = ledger.consistency_proof(old)
                verify_consistency(old, size, proof, root(leaves[:old]), head)
        for size2 in (1, 13, 32, 33):
            assert ledger.root_at(size2) == root(leaves[:size2])
            assert ledger.inclusion_proof(0, size2) == inclusion_proof(leaves, 0, size2)


def test_entries_round_trip(opener: Opener) -> None:
    entry = Entry(
        EntryKind.DECISION, {"allowed": False, "ref": "refs/heads/main"}, datetime.now(UTC)
    )
    with opener() as ledger:
        assert ledger.append([entry, entry]) == [0, 1]
        assert ledger.append_entries([entry]) == [2]
        assert parse_entry(ledger.entry(1)) == entry
        with pytest.raises(UsageError, match="no entry 3"):
            ledger.entry(3)


def test_checkpoints_and_verify(opener: Opener) -> None:
    with opener() as ledger:
        _fill(ledger, 10)
        first = ledger.checkpoint(SIGNER)
        _fill(ledger, 5)
        ledger.checkpoint(SIGNER)
        report = ledger.verify(SIGNER.verifier())
        assert (report.size, report.checkpoints, report.checked_from) == (15, 2, 0)
        assert ledger.latest_checkpoint(covering=11) == ledger.checkpoints()[-1]
        since = Checkpoint.parse(open_note(first, SIGNER.verifier()))
        assert ledger.verify(SIGNER.verifier(), since=since).checked_from == 10


def test_reopen_keeps_everything_and_records_the_migration(opener: Opener) -> None:
    with opener() as ledger:
        datas = _fill(ledger, 20)
    with opener() as ledger:
        assert ledger.size() == 20
        assert ledger.entry(19) == datas[19]
        store = ledger.store
        assert isinstance(store, SqlStore)
        rows = store._exec("SELECT version FROM twokey_migrations").fetchall()
        assert [r[0] for r in rows] == [1]


def test_a_newer_schema_is_refused(opener: Opener) -> None:
    with opener() as ledger:
        _sql(
            ledger,
            "INSERT INTO twokey_migrations (version, description, applied_at) "
            "VALUES (99, 'x', 'y')",
        )
    with pytest.raises(ConfigError, match="schema is version 99"):
        opener()


def test_bad_proof_arguments(opener: Opener) -> None:
    with opener() as ledger:
        _fill(ledger, 3)
        with pytest.raises(ProofError):
            ledger.inclusion_proof(3)
        with pytest.raises(UsageError):
            ledger.consistency_proof(1, 4)


def test_verify_sees_one_snapshot_while_others_append(opener: Opener) -> None:
    with opener() as ledger:
        _fill(ledger, 300)
    stop = threading.Event()

    def appender() -> None:
        with opener() as other:
            while not stop.is_set():
                other.append_raw([b"more"] * 10)

    thread = threading.Thread(target=appender)
    thread.start()
    try:
        with opener() as ledger:
            for _ in range(5):
                assert ledger.verify().size >= 300
    finally:
        stop.set()
        thread.join()


TAMPER = {
    "edit": ("UPDATE twokey_entries SET data = ? WHERE idx = 6", (b'{"n":666}',), 6),
    "delete": ("DELETE FROM twokey_entries WHERE idx = 4", (), 4),
    "reorder": (
        "UPDATE twokey_entries SET data = CASE idx WHEN 2 THEN ? ELSE ? END WHERE idx IN (2, 3)",
        (b'{"n":3}', b'{"n":2}'),
        2,
    ),
    "swap-rows": (
        "UPDATE twokey_entries SET idx = CASE idx WHEN 7 THEN 1007 ELSE idx END WHERE idx = 7",
        (),
        7,
    ),
    "insert": (
        "INSERT INTO twokey_entries (idx, data, leaf) VALUES (12, ?, ?)",
        (b'{"n":12}', leaf_hash(b'{"n":12}')),
        12,
    ),
    "truncate": ("DELETE FROM twokey_entries WHERE idx >= 9", (), 9),
    "edit-entry-and-leaf": (
        "UPDATE twokey_entries SET data = ?, leaf = ? WHERE idx = 5",
        (b"x", leaf_hash(b"x")),
        4,  # only the stored node over 4..5 disagrees: 4 is the first that cannot be vouched for
    ),
    "edit-node": ("UPDATE twokey_nodes SET hash = ? WHERE level = 2 AND idx = 1", (b"\0" * 32,), 4),
    "extra-node": (
        "INSERT INTO twokey_nodes (level, idx, hash) VALUES (1, 6, ?)",
        (b"\0" * 32,),
        12,
    ),
}


@pytest.mark.parametrize(("sql", "params", "first_bad"), TAMPER.values(), ids=TAMPER.keys())
def test_tampering_names_the_first_bad_index(
    opener: Opener, sql: str, params: tuple[bytes, ...], first_bad: int
) -> None:
    with opener() as ledger:
        _fill(ledger, 12)
        ledger.checkpoint(SIGNER)
        _sql(ledger, sql, params)
        with pytest.raises(LedgerCorruptError) as caught:
            ledger.verify(SIGNER.verifier())
        assert caught.value.first_bad_index == first_bad, caught.value.message


def _rewrite_consistently(ledger: Ledger, datas: list[bytes], index: int, forged: bytes) -> None:
    """An attacker with database access rewrites an entry and every hash above it."""
    datas = list(datas)
    datas[index] = forged
    _sql(ledger, "DELETE FROM twokey_nodes")
    _sql(ledger, "DELETE FROM twokey_entries")
    _sql(ledger, "UPDATE twokey_head SET size = 0, root = ?, frontier = ?", (root([]), b""))
    ledger.append_raw(datas)


def test_a_consistent_rewrite_is_caught_by_the_old_checkpoint(opener: Opener) -> None:
    with opener() as ledger:
        datas = _fill(ledger, 8)
        old = Checkpoint.parse(open_note(ledger.checkpoint(SIGNER), SIGNER.verifier()))
        _fill(ledger, 3)
        _rewrite_consistently(ledger, [*datas, *datas[:3]], 1, b'{"n":"forged"}')
        with pytest.raises(LedgerCorruptError, match=r"entry in 0\.\.7 was changed"):
            ledger.verify(SIGNER.verifier())
        with pytest.raises(LedgerCorruptError, match="not the one the checkpoint of size 8"):
            ledger.verify(SIGNER.verifier(), since=old)
        size, head = ledger.head()
        with pytest.raises(ProofError):  # what `twokey ledger consistency --from` checks
            verify_consistency(8, size, ledger.consistency_proof(8), old.root, head)


def test_a_fork_is_detected(opener: Opener) -> None:
    with opener() as ledger:
        _fill(ledger, 4)
        ledger.checkpoint(SIGNER)
        _sql(
            ledger,
            "INSERT INTO twokey_checkpoints (size, root, note) "
            "SELECT size, ?, note FROM twokey_checkpoints",
            (b"\x00" * 32,),
        )
        with pytest.raises(LedgerCorruptError, match="the log forked"):
            ledger.verify()


def test_a_forged_checkpoint_signature_is_detected(opener: Opener) -> None:
    with opener() as ledger:
        _fill(ledger, 4)
        ledger.checkpoint(SIGNER)
        ledger.verify()  # without a key only the roots are compared
        other = generate_signer("test.example")
        with pytest.raises(LedgerCorruptError, match="is not signed by"):
            ledger.verify(other.verifier())


def test_a_truncated_log_fails_against_its_checkpoint(opener: Opener) -> None:
    with opener() as ledger:
        datas = _fill(ledger, 9)
        ledger.checkpoint(SIGNER)
        _rewrite_consistently(ledger, datas[:6], 0, datas[0])
        with pytest.raises(LedgerCorruptError, match="truncated") as caught:
            ledger.verify(SIGNER.verifier())
        assert caught.value.first_bad_index == 6


def test_a_damaged_head_refuses_to_be_signed(opener: Opener) -> None:
    with opener() as ledger:
        _fill(ledger, 5)
        _sql(ledger, "UPDATE twokey_head SET root = ?", (b"\x07" * 32,))
        with pytest.raises(LedgerCorruptError, match="refusing to sign"):
            ledger.checkpoint(SIGNER)
        with pytest.raises(LedgerCorruptError, match="tree head does not match"):
            ledger.verify()


def test_missing_nodes_are_a_storage_error_not_a_crash(opener: Opener) -> None:
    with opener() as ledger:
        _fill(ledger, 8)
        _sql(ledger, "DELETE FROM twokey_nodes WHERE level = 2")
        with pytest.raises(InfrastructureError, match="damaged"):
            ledger.inclusion_proof(0)
