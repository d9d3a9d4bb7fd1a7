"""The SQLite store: one file, WAL, durable commits (the embedded default)."""

from __future__ import annotations

__all__ = ["SqliteStore"]

import sqlite3
from pathlib import Path

from twokey.errors import InfrastructureError
from twokey.ledger._sql import SqlStore

_BUSY_MS = 60_000


class SqliteStore(SqlStore):
    """A log in one SQLite file; several processes may append to it at once.

    ``BEGIN IMMEDIATE`` takes the database's single write lock before the head is read, so
    appenders queue (for up to a minute) instead of racing; WAL lets readers run beside them;
    ``synchronous=FULL`` makes a commit durable before the append is acknowledged.
    """

    driver_errors = (sqlite3.Error,)

    def __init__(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=_BUSY_MS / 1000, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise InfrastructureError(f"cannot open ledger {path}: {exc}") from exc
        super().__init__(conn, str(path))
        with self._guard("opening"):
            conn.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # an acknowledged append survives power loss
        self.path = path
        try:
            self.migrate()
        except BaseException:
            conn.close()
            raise

    def _begin_write(self) -> None:
        self._exec("BEGIN IMMEDIATE")  # the write lock sequences appenders

    def _begin_read(self) -> None:
        self._exec("BEGIN")  # WAL: the snapshot is fixed by the first read

    def _blob_literal(self, value: bytes) -> str:
        return f"X'{value.hex()}'"
