"""The forge's ``Database`` on PostgreSQL heals after the server drops its connection: the
statement that finds out fails (an ``InfrastructureError``: deny), the next one reconnects,
with the same schema; inside a transaction it never reconnects (half a transaction on one
connection and half on another would be no transaction)."""

from __future__ import annotations

import psycopg
import pytest

from tests.integration.ledger.conftest import POSTGRES_URL
from twokey.errors import InfrastructureError
from twokey.forge import ForgeStore


def _terminate(store: ForgeStore) -> None:
    pid = store.db.rows("SELECT pg_backend_pid()")[0][0]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_the_next_statement_reconnects_to_the_same_schema(pg_url: str) -> None:
    store = ForgeStore(pg_url)
    try:
        store.db.execute("CREATE TABLE kept (n INTEGER)")
        store.db.execute("INSERT INTO kept VALUES (1)")
        _terminate(store)
        with pytest.raises(InfrastructureError):
            store.db.rows("SELECT n FROM kept")
        assert store.db.rows("SELECT n FROM kept") == [(1,)]  # the same schema again
    finally:
        store.close()


def test_a_transaction_never_reconnects_midway(pg_url: str) -> None:
    store = ForgeStore(pg_url)
    try:
        store.db.execute("CREATE TABLE kept (n INTEGER)")

        def half_done() -> None:
            with store.db.transaction():
                store.db.execute("INSERT INTO kept VALUES (1)")
                _terminate(store)
                store.db.execute("INSERT INTO kept VALUES (2)")  # fails: the connection is gone

        with pytest.raises(InfrastructureError):
            half_done()
        assert store.db.rows("SELECT n FROM kept") == []  # nothing of it was committed
    finally:
        store.close()
