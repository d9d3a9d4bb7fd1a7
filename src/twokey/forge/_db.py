"""One database connection for the forge's tables, on the ledger's database URL.

The forge keeps three small tables beside the ledger (deliveries seen, forge evidence, pending
deployments), in the same SQLite file or PostgreSQL schema, so one URL configures both. Plain
``sqlite3`` and ``psycopg``; every driver error becomes an ``InfrastructureError`` (no driver
exception leaves this layer).
"""

from __future__ import annotations

__all__ = ["Database", "open_database"]

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from twokey.errors import InfrastructureError
from twokey.ledger import redact, split_schema

_BUSY_MS = 60_000


class Database:
    """A connection in autocommit mode with ``?`` placeholders on both engines.

    One connection may serve several threads of a gateway process: statements and
    transactions take a lock, so no two interleave on it.

    ``connect`` (PostgreSQL) opens a new connection: when the server dropped this one (a
    restart, ``pg_terminate_backend``), the statement that finds out fails as before, and the
    next one, outside a transaction, reconnects (a long-running gateway heals by itself).
    """

    def __init__(
        self,
        connection: Any,
        where: str,
        errors: tuple[type[Exception], ...],
        connect: Callable[[], Any] | None = None,
    ) -> None:
        self._conn = connection
        self.where = where
        self._errors = errors
        self.postgres = errors != (sqlite3.Error,)
        self._lock = threading.RLock()
        self._connect = connect
        self._depth = 0  # open transactions: never reconnect inside one

    @property
    def lock(self) -> threading.RLock:
        """The lock every statement and transaction of this connection holds (a writer of the
        same database in this process may hold it too: ``BatchedLedger(lock=...)``)."""
        return self._lock

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; returns how many rows it changed."""
        return int(self._run(sql, params, lambda cursor: cursor.rowcount))

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one query; returns all its rows (read under the lock)."""
        return list(self._run(sql, params, lambda cursor: cursor.fetchall()))

    def _run(self, sql: str, params: Sequence[Any], read: Callable[[Any], Any]) -> Any:
        if self.postgres:
            sql = sql.replace("?", "%s")
        try:
            with self._lock:
                self._reconnect_if_dropped()
                return read(self._conn.execute(sql, tuple(params)))
        except self._errors as exc:
            raise InfrastructureError(f"forge store {self.where}: {_reason(exc)}") from exc

    def _reconnect_if_dropped(self) -> None:
        """A new connection when the server dropped the old one (outside transactions)."""
        if self._connect is None or self._depth or not getattr(self._conn, "closed", False):
            return
        self._conn = self._connect()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction (SQLite: ``BEGIN IMMEDIATE``, the write lock first)."""
        with self._lock:
            self.execute("BEGIN IMMEDIATE" if not self.postgres else "BEGIN")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                self.execute("ROLLBACK")
                raise
            self._depth -= 1
            self.execute("COMMIT")

    def close(self) -> None:
        """Close the connection."""
        try:
            self._conn.close()
        except self._errors as exc:
            raise InfrastructureError(f"forge store {self.where}: {_reason(exc)}") from exc


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def open_database(url: str) -> Database:
    """``sqlite:///abs/path``, ``sqlite://rel/path``, a file path, or ``postgresql://...``
    (``?schema=NAME`` selects a schema, created when missing).

    Raises:
        InfrastructureError: the database cannot be opened.
        UsageError: a bad schema name.
    """
    if url.startswith(("postgresql://", "postgres://")):
        return _postgres(url)
    path = Path(url.removeprefix("sqlite://"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            path, timeout=_BUSY_MS / 1000, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
        conn.execute("PRAGMA journal_mode=WAL")
        # The forge's rows sit in the ledger's file, so the ledger's next durable commit (its
        # fsync of the write-ahead log) makes every earlier row durable too: a delivery id is
        # written before its ledger entry, so it is durable no later than that entry.
        conn.execute("PRAGMA synchronous=NORMAL")
    except (OSError, sqlite3.Error) as exc:
        raise InfrastructureError(f"cannot open the forge store {path}: {exc}") from exc
    return Database(conn, str(path), (sqlite3.Error,))


def _postgres(url: str) -> Database:
    import psycopg  # noqa: PLC0415 - psycopg is slow to import; only PostgreSQL pays for it

    dsn, schema = split_schema(url)

    def connect() -> Any:
        conn = psycopg.connect(dsn, connect_timeout=10, autocommit=True)
        if schema is not None:  # the name is checked by split_schema
            conn.execute(f"SET search_path TO {schema}")
        return conn

    try:
        conn = psycopg.connect(dsn, connect_timeout=10, autocommit=True)
    except psycopg.Error as exc:
        raise InfrastructureError(
            f"cannot open the forge store {redact(url)}: {_reason(exc)}"
        ) from exc
    db = Database(conn, redact(url), (psycopg.Error,), connect)
    if schema is not None:
        db.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")  # the name is checked by split_schema
        db.execute(f"SET search_path TO {schema}")
    return db
