"""The PostgreSQL store: the same schema; a row lock on the head sequences appenders."""

from __future__ import annotations

__all__ = ["PostgresStore"]

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg

from twokey.ledger._store import SqlStore

_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]*$")


def split_schema(url: str) -> tuple[str, str | None]:
    """Take a ``schema=NAME`` query parameter out of a PostgreSQL URL."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    schema = next((v for k, v in query if k == "schema"), None)
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    if schema is not None and not _SCHEMA.match(schema):
        raise ValueError(f"bad schema name {schema!r}")
    return urlunsplit(parts._replace(query=rest)), schema


class PostgresStore(SqlStore):
    """A log in PostgreSQL (``postgresql://...[?schema=NAME]``)."""

    placeholder = "%s"
    blob_type = "BYTEA"

    def __init__(self, url: str) -> None:
        dsn, schema = split_schema(url)
        conn = psycopg.connect(dsn, connect_timeout=10)
        super().__init__(conn)
        if schema is not None:
            self._exec(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            self._exec(f"SET search_path TO {schema}")
            conn.commit()
        self._exec("SELECT pg_advisory_xact_lock(726564)")  # one migrator at a time
        self.migrate()

    def _begin_write(self) -> None:
        self._exec("SELECT size FROM twokey_head WHERE id = 1 FOR UPDATE")
