"""The SQLite store: one file, WAL, durable commits (the embedded default)."""

from __future__ import annotations

__all__ = ["SqliteStore"]

import sqlite3
from pathlib import Path

from twokey.ledger._store import SqlStore


class SqliteStore(SqlStore):
    """A log in one SQLite file; several processes may append to it at once."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=60, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")  # an acknowledged append survives a crash
        conn.execute("PRAGMA busy_timeout=60000")
        super().__init__(_Autobegin(conn))
        self.path = path
        self.conn.execute("BEGIN IMMEDIATE")
        self.migrate()

    def _begin_write(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")  # the write lock sequences appenders


class _Autobegin:
    """sqlite3 in autocommit mode, with explicit BEGIN for writes and harmless commits."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.raw = conn

    def cursor(self) -> sqlite3.Cursor:
        return self.raw.cursor()

    def execute(self, sql: str) -> sqlite3.Cursor:
        return self.raw.execute(sql)

    def commit(self) -> None:
        if self.raw.in_transaction:
            self.raw.execute("COMMIT")

    def rollback(self) -> None:
        if self.raw.in_transaction:
            self.raw.execute("ROLLBACK")

    def close(self) -> None:
        self.raw.close()
