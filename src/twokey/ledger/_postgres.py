"""The PostgreSQL store: the same schema; a row lock on the head sequences appenders."""

from __future__ import annotations

__all__ = ["PostgresStore"]

import itertools
from collections.abc import Sequence
from typing import Any

import psycopg

from twokey.errors import InfrastructureError
from twokey.ledger._sql import SqlStore
from twokey.ledger._urls import redact as _redact
from twokey.ledger._urls import split_schema

_MIGRATION_LOCK = 0x74776F6B  # "twok": one migrator at a time, per database
_cursor_names = itertools.count()
_TYPES = {"idx": "bigint", "level": "integer", "data": "bytea", "leaf": "bytea", "hash": "bytea"}


class PostgresStore(SqlStore):
    """A log in PostgreSQL (``postgresql://...[?schema=NAME]``).

    An appender locks the single head row (``SELECT ... FOR UPDATE``) before reading it, so
    appenders queue on that row and each extends the tree the previous one committed. Readers
    that need one consistent view use ``REPEATABLE READ`` snapshots and server-side cursors.
    """

    placeholder = "%s"
    blob_type = "BYTEA"
    lock_suffix = " FOR UPDATE"
    driver_errors = (psycopg.Error,)

    def __init__(self, url: str) -> None:
        dsn, schema = split_schema(url)
        try:
            conn = psycopg.connect(dsn, connect_timeout=10, autocommit=True)
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InfrastructureError(f"cannot open ledger {_redact(url)}: {reason}") from exc
        super().__init__(conn, _redact(url))
        try:
            if schema is not None:
                self._use_schema(schema)
            self.migrate()
        except BaseException:
            conn.close()
            raise

    def _use_schema(self, schema: str) -> None:
        with self._guard("selecting the schema"):
            with self._transaction(self._begin_migration):
                self._exec(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            self._exec(f"SET search_path TO {schema}")

    def _begin_write(self) -> None:
        self._exec("BEGIN")  # the head row's FOR UPDATE lock is taken by the first read

    def _begin_migration(self) -> None:
        self._exec("BEGIN")
        self._exec("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))

    def _lock_recovery(self) -> None:
        self._exec("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))

    def _begin_read(self) -> None:
        self._exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def _blob_literal(self, value: bytes) -> str:
        return f"'\\x{value.hex()}'::bytea"

    def _insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """One ``COPY ... FROM STDIN (FORMAT BINARY)`` per batch, inside the append transaction.

        (``executemany`` costs a message per row even when pipelined; COPY streams the batch.)
        """
        if not rows:
            return
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
        with self.conn.cursor().copy(sql) as copy:
            copy.set_types([_TYPES[c] for c in columns])
            for row in rows:
                copy.write_row(row)

    def _stream(self, sql: str, params: Sequence[Any]) -> Any:
        if not self._in_snapshot:  # server-side cursors need a transaction
            return self._exec(sql, params)
        cur = self.conn.cursor(name=f"twokey_{next(_cursor_names)}")
        cur.itersize = 8192
        cur.execute(self._q(sql), tuple(params))
        return cur
