"""The SQL shared by the SQLite and PostgreSQL stores.

Both drivers run in autocommit mode and this class issues ``BEGIN``/``COMMIT`` itself, so that
one code path decides where every transaction starts and ends. The subclasses supply the
dialect: placeholders, the blob type, how a writer takes the log's lock, and how a reader gets a
snapshot. Driver exceptions become :class:`~twokey.errors.InfrastructureError` here.
"""

from __future__ import annotations

__all__ = ["SqlStore"]

import abc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any

from twokey.errors import ConfigError, InfrastructureError
from twokey.ledger._compact import Position, fold, frontier_positions, grow
from twokey.ledger._merkle import EMPTY_ROOT, HASH_SIZE
from twokey.ledger._migrations import MIGRATIONS
from twokey.ledger._store import (
    Head,
    LedgerCorruptError,
    MissingHashError,
    Store,
    StoredCheckpoint,
)

_FETCH = 8192


def _split(blob: bytes) -> tuple[bytes, ...]:
    return tuple(blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE))


def _blob(value: object, what: str, index: int | None = None) -> bytes:
    """A stored blob, or a verify failure naming the row: never a driver type leaking out.

    SQLite stores whatever type an edit gives it (a TEXT ``data`` is a ``str``), so every
    column read back is checked instead of assumed.
    """
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise LedgerCorruptError(
        f"{what} is stored as {type(value).__name__}, not as bytes: the row was edited", index
    )


def _entry_row(idx: object, data: object, leaf: object) -> tuple[int, bytes, bytes]:
    """A stored entry row, checked; the usual exact types skip building error messages (the
    check is the same: ``type(x) is int`` refuses ``bool``, other blob types take the long way)."""
    if type(idx) is int and type(data) is bytes and type(leaf) is bytes:
        return idx, data, leaf
    index = _int(idx, "an entry index")
    what = f"entry {index}"
    return index, _blob(data, what, index), _blob(leaf, f"{what}'s leaf hash", index)


def _int(value: object, what: str) -> int:
    """A stored integer (``bool`` and SQLite TEXT are refused, not converted)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise LedgerCorruptError(
        f"{what} is stored as {type(value).__name__}, not as an integer: the row was edited", None
    )


class SqlStore(Store):
    """A :class:`Store` over a DB-API connection in autocommit mode."""

    placeholder = "?"
    blob_type = "BLOB"
    lock_suffix = ""  # appended to the head SELECT of a writer ("FOR UPDATE" in PostgreSQL)
    driver_errors: tuple[type[Exception], ...] = ()

    def __init__(self, connection: Any, where: str) -> None:
        self.conn = connection
        self.where = where
        self._in_snapshot = False

    # -- dialect hooks --------------------------------------------------------------------
    @abc.abstractmethod
    def _begin_write(self) -> None:
        """Start a transaction that will hold the log's write lock."""

    def _begin_migration(self) -> None:
        """Start a transaction that serialises migrators (the head table may not exist yet)."""
        self._begin_write()

    @abc.abstractmethod
    def _begin_read(self) -> None:
        """Start a read-only transaction with one consistent snapshot."""

    @abc.abstractmethod
    def _blob_literal(self, value: bytes) -> str:
        """``value`` as an SQL literal (only for migrations)."""

    def _stream(self, sql: str, params: Sequence[Any]) -> Any:
        """A cursor that fetches large results incrementally."""
        return self._exec(sql, params)

    # -- plumbing -------------------------------------------------------------------------
    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        try:
            yield
        except self.driver_errors as exc:
            raise InfrastructureError(
                f"ledger storage failed while {action} ({self.where}): {exc}".strip(),
                hint="check that the database is reachable and writable",
            ) from exc

    def _q(self, sql: str) -> str:
        return sql.replace("?", self.placeholder)

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> Any:
        cur = self.conn.cursor()
        cur.execute(self._q(sql), tuple(params))
        return cur

    def _insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert many rows (``table`` and ``columns`` are fixed identifiers, never input)."""
        if rows:
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
            self.conn.cursor().executemany(self._q(sql), rows)

    @contextmanager
    def _transaction(self, begin: Any) -> Iterator[None]:
        begin()
        try:
            yield
        except BaseException:
            with suppress(*self.driver_errors):  # a dead connection rolls back on its own
                self._exec("ROLLBACK")
            raise
        self._exec("COMMIT")

    # -- schema ---------------------------------------------------------------------------
    def _version(self) -> int:
        try:
            row = self._exec("SELECT MAX(version) FROM twokey_migrations").fetchone()
        except self.driver_errors:
            self._recover()
            return 0
        return int(row[0] or 0)

    def _recover(self) -> None:
        """Undo the effect of a failed statement (PostgreSQL aborts the transaction)."""

    def migrate(self) -> None:
        """Apply pending migrations under the write lock (checked again once locked)."""
        latest = MIGRATIONS[-1].version
        with self._guard("migrating the schema"):
            current = self._version()
            if current > latest:
                raise ConfigError(
                    f"the ledger schema is version {current}; this twokey knows {latest}",
                    hint="upgrade twokey",
                )
            if current == latest:
                return
            with self._transaction(self._begin_migration):
                self._exec(
                    "CREATE TABLE IF NOT EXISTS twokey_migrations (version INTEGER PRIMARY KEY, "
                    "description TEXT NOT NULL, applied_at TEXT NOT NULL)"
                )
                self._apply(self._version())

    def _apply(self, current: int) -> None:
        values = {
            "blob": self.blob_type,
            "empty_root": self._blob_literal(EMPTY_ROOT),
            "empty": self._blob_literal(b""),
        }
        for migration in MIGRATIONS:
            if migration.version <= current:
                continue
            for statement in migration.statements:
                self._exec(statement.format(**values))
            self._exec(
                "INSERT INTO twokey_migrations (version, description, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.description, datetime.now(UTC).isoformat()),
            )

    # -- Store ----------------------------------------------------------------------------
    def append(self, datas: Sequence[bytes], leaves: Sequence[bytes]) -> int:
        with self._guard("appending"), self._transaction(self._begin_write):
            head = self._read_head(self.lock_suffix, recover=True)
            nodes, frontier = grow(head.size, head.frontier, leaves)
            rows = [
                (head.size + i, d, h) for i, (d, h) in enumerate(zip(datas, leaves, strict=True))
            ]
            self._insert("twokey_entries", ("idx", "data", "leaf"), rows)
            self._insert("twokey_nodes", ("level", "idx", "hash"), nodes)
            self._exec(
                "UPDATE twokey_head SET size = ?, root = ?, frontier = ? WHERE id = 1",
                (head.size + len(datas), fold(frontier), b"".join(frontier)),
            )
        return head.size

    def _read_head(self, suffix: str = "", *, recover: bool = False) -> Head:
        sql = "SELECT size, root, frontier FROM twokey_head WHERE id = 1" + suffix  # noqa: S608
        row = self._exec(sql).fetchone()
        if row is None and recover:
            return self._recover_head(sql)
        if row is None:
            raise LedgerCorruptError(
                "the tree head row (twokey_head, id 1) is missing: the store was edited; the "
                "next append rebuilds it from the stored entries and hashes",
                None,
            )
        size, root, frontier = row
        return Head(
            _int(size, "the tree head's size"),
            _blob(root, "the tree head's root"),
            _split(_blob(frontier, "the tree head's frontier")),
        )

    def _lock_recovery(self) -> None:
        """Serialise head recovery (SQLite's write lock already does)."""

    def _recover_head(self, sql: str) -> Head:
        """Rebuild a deleted head row from the entries and the stored subtree hashes.

        Appends go on (fail small) instead of failing for everyone; ``verify`` still checks
        every entry and checkpoint against the rebuilt head, so nothing is vouched for here.
        """
        self._lock_recovery()
        row = self._exec(sql).fetchone()  # another appender may have rebuilt it meanwhile
        if row is not None:
            return self._read_head()
        count, last = self._exec("SELECT COUNT(*), MAX(idx) FROM twokey_entries").fetchone()
        size = _int(count, "the entry count")
        if size and _int(last, "the last index") != size - 1:
            raise LedgerCorruptError(
                f"the tree head row is missing and entries are missing below index {last}: "
                "cannot rebuild the head",
                None,
            )
        positions = frontier_positions(size)
        found = self.hashes(positions)
        frontier = [found[p] for p in positions]
        self._exec(
            "INSERT INTO twokey_head (id, size, root, frontier) VALUES (1, ?, ?, ?)",
            (size, fold(frontier), b"".join(frontier)),
        )
        return Head(size, fold(frontier), tuple(frontier))

    def head(self) -> Head:
        with self._guard("reading the tree head"):
            return self._read_head()

    def hashes(self, positions: Sequence[Position]) -> dict[Position, bytes]:
        wanted = sorted(set(positions))
        leaves = [i for level, i in wanted if level == 0]
        inner = [p for p in wanted if p[0] > 0]
        found: dict[Position, bytes] = {}
        with self._guard("reading tree hashes"):
            if leaves:
                marks = ",".join("?" * len(leaves))
                sql = f"SELECT idx, leaf FROM twokey_entries WHERE idx IN ({marks})"  # noqa: S608
                found.update(
                    ((0, _int(i, "an index")), _blob(h, f"the leaf hash of entry {i}", i))
                    for i, h in self._exec(sql, leaves)
                )
            if inner:
                # An OR of point lookups: both planners use the primary key for each term
                # (SQLite scans the table for a row-value IN list).
                terms = " OR ".join(["(level = ? AND idx = ?)"] * len(inner))
                sql = f"SELECT level, idx, hash FROM twokey_nodes WHERE {terms}"  # noqa: S608
                flat = [x for p in inner for x in p]
                found.update(
                    ((_int(lv, "a level"), _int(i, "an index")), _blob(h, "a tree hash"))
                    for lv, i, h in self._exec(sql, flat)
                )
        missing = [p for p in wanted if p not in found]
        if missing:
            raise MissingHashError(
                f"the ledger store is damaged: tree hashes {missing[:3]} are missing",
                hint="run `twokey ledger verify` to find the first bad index",
            )
        return found

    def entries(self, start: int, end: int | None) -> Iterator[tuple[int, bytes, bytes]]:
        sql = "SELECT idx, data, leaf FROM twokey_entries WHERE idx >= ?"
        params: list[Any] = [start]
        if end is not None:
            sql += " AND idx < ?"
            params.append(end)
        with self._guard("reading entries"):
            cur = self._stream(sql + " ORDER BY idx", params)
            while rows := cur.fetchmany(_FETCH):
                for row in rows:
                    yield _entry_row(*row)

    def nodes(self, level: int, start: int, end: int | None = None) -> Iterator[tuple[int, bytes]]:
        sql = "SELECT idx, hash FROM twokey_nodes WHERE level = ? AND idx >= ?"
        params: list[Any] = [level, start]
        if end is not None:
            sql += " AND idx < ?"
            params.append(end)
        with self._guard("reading tree nodes"):
            cur = self._stream(sql + " ORDER BY idx", params)
            while rows := cur.fetchmany(_FETCH):
                for idx, value in rows:
                    if type(idx) is int and type(value) is bytes:  # as _entry_row
                        yield idx, value
                    else:
                        yield _int(idx, "a node index"), _blob(value, f"a level-{level} tree hash")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        if self._in_snapshot:
            yield
            return
        with self._guard("reading a snapshot"), self._transaction(self._begin_read):
            self._in_snapshot = True
            try:
                yield
            finally:
                self._in_snapshot = False

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        with self._guard("storing a checkpoint"):
            self._exec(
                "INSERT INTO twokey_checkpoints (size, root, note) VALUES (?, ?, ?)",
                (checkpoint.size, checkpoint.root, checkpoint.note),
            )

    def checkpoints(self) -> list[StoredCheckpoint]:
        with self._guard("reading checkpoints"):
            rows = self._exec("SELECT size, root, note FROM twokey_checkpoints ORDER BY size")
            return [_checkpoint(s, r, n) for s, r, n in rows.fetchall()]

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        """One row, not every checkpoint: the tiles ask for it on every request."""
        with self._guard("reading checkpoints"):
            sql = "SELECT size, root, note FROM twokey_checkpoints ORDER BY size DESC LIMIT 1"
            row = self._exec(sql).fetchone()
        return None if row is None else _checkpoint(*row)

    def close(self) -> None:
        with self._guard("closing"):
            self.conn.close()


def _checkpoint(size: object, root: object, note: object) -> StoredCheckpoint:
    number = _int(size, "a checkpoint's size")
    if not isinstance(note, str):
        raise LedgerCorruptError(
            f"the checkpoint of size {number} is stored as {type(note).__name__}, not as text: "
            "the row was edited",
            None,
        )
    return StoredCheckpoint(number, _blob(root, f"the root of checkpoint {number}"), note)
