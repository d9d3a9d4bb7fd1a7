"""Storage of the log behind one interface, with SQLite and PostgreSQL implementations.

Tables: ``entries`` (index, exact bytes), ``nodes`` (hashes of every complete perfect subtree:
level 0 are the leaf hashes), ``head`` (one row: size and root), ``checkpoints`` (signed notes)
and ``meta`` (schema version). An append takes the database's write lock, reads the head, writes
the entries, the new perfect-subtree nodes and the new head in one transaction: the database
sequences concurrent appenders, so there is no gap, duplicate or fork.
"""

from __future__ import annotations

__all__ = ["SqlStore", "Store", "StoredCheckpoint"]

import abc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from twokey.ledger._merkle import EMPTY_ROOT, leaf_hash, node_hash

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class StoredCheckpoint:
    """A signed checkpoint as stored: size, root and the signed note text."""

    size: int
    root: bytes
    note: str


class Store(abc.ABC):
    """What the ledger needs from a database."""

    @abc.abstractmethod
    def append(self, datas: Sequence[bytes]) -> tuple[int, int, bytes]:
        """Append entries atomically; returns (first index, new size, new root)."""

    @abc.abstractmethod
    def head(self) -> tuple[int, bytes]:
        """The stored tree head: (size, root)."""

    @abc.abstractmethod
    def node(self, level: int, index: int) -> bytes:
        """The hash of the perfect subtree ``index`` at ``level`` (leaves at level 0)."""

    @abc.abstractmethod
    def entries(self, start: int, end: int | None) -> Iterator[tuple[int, bytes, bytes | None]]:
        """(index, entry bytes, stored leaf hash) for stored rows from ``start``, in order."""

    @abc.abstractmethod
    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """Store a signed checkpoint."""

    @abc.abstractmethod
    def checkpoints(self) -> list[StoredCheckpoint]:
        """Every stored checkpoint, by size."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection."""


def frontier_positions(size: int) -> list[tuple[int, int]]:
    """(level, index) of the perfect subtrees that make up a tree of ``size`` leaves."""
    out = []
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size & (1 << level):
            out.append((level, start >> level))
            start += 1 << level
    return out


def fold_root(frontier: Sequence[bytes]) -> bytes:
    """The root of a tree from its perfect subtrees, largest (leftmost) first."""
    if not frontier:
        return EMPTY_ROOT
    result = frontier[-1]
    for node in reversed(frontier[:-1]):
        result = node_hash(node, result)
    return result


def grow(
    size: int, frontier: dict[int, bytes], datas: Sequence[bytes]
) -> tuple[list[tuple[int, int, bytes]], list[bytes]]:
    """New nodes (level, index, hash) and leaf hashes for appending ``datas`` at ``size``.

    ``frontier`` maps level -> hash of the rightmost *complete but unpaired* subtree at that
    level (the binary decomposition of ``size``); it is updated in place.
    """
    nodes: list[tuple[int, int, bytes]] = []
    leaves = []
    for offset, data in enumerate(datas):
        index = size + offset
        current = leaf_hash(data)
        leaves.append(current)
        nodes.append((0, index, current))
        level = 0
        while index & 1:  # a right child completes its parent
            current = node_hash(frontier.pop(level), current)
            level, index = level + 1, index >> 1
            nodes.append((level, index, current))
        frontier[level] = current
    return nodes, leaves


class SqlStore(Store):
    """The SQL shared by the SQLite and PostgreSQL stores (placeholders rewritten per driver)."""

    placeholder = "?"
    blob_type = "BLOB"

    def __init__(self, connection: Any) -> None:
        self.conn = connection

    # -- driver hooks -------------------------------------------------------------------
    @abc.abstractmethod
    def _begin_write(self) -> None:
        """Start a transaction holding the log's write lock."""

    def _q(self, sql: str) -> str:
        return sql.replace("?", self.placeholder)

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> Any:
        cur = self.conn.cursor()
        cur.execute(self._q(sql), tuple(params))
        return cur

    # -- schema -------------------------------------------------------------------------
    def migrate(self) -> None:
        """Create the tables when missing (migration 1)."""
        b = self.blob_type
        for ddl in (
            "CREATE TABLE IF NOT EXISTS twokey_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS twokey_entries (idx BIGINT PRIMARY KEY, "
            f"data {b} NOT NULL)",
            "CREATE TABLE IF NOT EXISTS twokey_nodes (level INTEGER NOT NULL, "
            f"idx BIGINT NOT NULL, hash {b} NOT NULL, PRIMARY KEY (level, idx))",
            f"CREATE TABLE IF NOT EXISTS twokey_head (id INTEGER PRIMARY KEY CHECK (id = 1), "
            f"size BIGINT NOT NULL, root {b} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS twokey_checkpoints (size BIGINT NOT NULL, root {b} NOT "
            "NULL, note TEXT NOT NULL)",
        ):
            self._exec(ddl)
        self._exec(
            "INSERT INTO twokey_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            ("schema_version", str(SCHEMA_VERSION)),
        )
        self._exec(
            "INSERT INTO twokey_head (id, size, root) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
            (1, 0, EMPTY_ROOT),
        )
        self.conn.commit()

    # -- Store --------------------------------------------------------------------------
    def append(self, datas: Sequence[bytes]) -> tuple[int, int, bytes]:
        self._begin_write()
        try:
            size = int(self._exec("SELECT size FROM twokey_head WHERE id = 1").fetchone()[0])
            frontier = {level: self.node(level, index) for level, index in frontier_positions(size)}
            nodes, _ = grow(size, frontier, datas)
            cur = self.conn.cursor()
            cur.executemany(
                self._q("INSERT INTO twokey_entries (idx, data) VALUES (?, ?)"),
                [(size + i, d) for i, d in enumerate(datas)],
            )
            cur.executemany(
                self._q("INSERT INTO twokey_nodes (level, idx, hash) VALUES (?, ?, ?)"), nodes
            )
            new_size = size + len(datas)
            new_root = fold_root([frontier[lv] for lv in sorted(frontier, reverse=True)])
            self._exec(
                "UPDATE twokey_head SET size = ?, root = ? WHERE id = 1", (new_size, new_root)
            )
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise
        return size, new_size, new_root

    def head(self) -> tuple[int, bytes]:
        row = self._exec("SELECT size, root FROM twokey_head WHERE id = 1").fetchone()
        self.conn.commit()
        return int(row[0]), bytes(row[1])

    def node(self, level: int, index: int) -> bytes:
        row = self._exec(
            "SELECT hash FROM twokey_nodes WHERE level = ? AND idx = ?", (level, index)
        ).fetchone()
        if row is None:
            raise LookupError(f"node {level}/{index} is missing")
        return bytes(row[0])

    def entries(self, start: int, end: int | None) -> Iterator[tuple[int, bytes, bytes | None]]:
        sql = (
            "SELECT e.idx, e.data, n.hash FROM twokey_entries e LEFT JOIN twokey_nodes n "
            "ON n.level = 0 AND n.idx = e.idx WHERE e.idx >= ?"
        )
        params: list[Any] = [start]
        if end is not None:
            sql += " AND e.idx < ?"
            params.append(end)
        cur = self._exec(sql + " ORDER BY e.idx", params)
        while rows := cur.fetchmany(4096):
            for idx, data, leaf in rows:
                yield int(idx), bytes(data), bytes(leaf) if leaf is not None else None
        self.conn.commit()

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        self._exec(
            "INSERT INTO twokey_checkpoints (size, root, note) VALUES (?, ?, ?)",
            (checkpoint.size, checkpoint.root, checkpoint.note),
        )
        self.conn.commit()

    def checkpoints(self) -> list[StoredCheckpoint]:
        rows = self._exec(
            "SELECT size, root, note FROM twokey_checkpoints ORDER BY size"
        ).fetchall()
        self.conn.commit()
        return [StoredCheckpoint(int(s), bytes(r), str(n)) for s, r, n in rows]

    def close(self) -> None:
        self.conn.close()
