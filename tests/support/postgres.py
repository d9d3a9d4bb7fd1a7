"""A private PostgreSQL schema per test or module, on the test server.

Tests run in parallel (pytest-xdist) against one database, so each gets a unique schema through
``?schema=`` (the stores set ``search_path``). Without a server the test is skipped with the
reason, unless ``TWOKEY_REQUIRE_POSTGRES=1`` (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

POSTGRES_URL = os.environ.get("TWOKEY_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test")


@contextmanager
def private_schema(prefix: str) -> Iterator[str]:
    """A PostgreSQL URL with a fresh schema ``PREFIX_<random>``, dropped afterwards."""
    import psycopg  # noqa: PLC0415 - only the PostgreSQL tests pay for the import

    schema = f"{prefix}_{uuid.uuid4().hex[:16]}"
    try:
        admin = psycopg.connect(POSTGRES_URL, connect_timeout=3, autocommit=True)
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}".splitlines()[0]
        if os.environ.get("TWOKEY_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}schema={schema}"
    finally:
        admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.close()
