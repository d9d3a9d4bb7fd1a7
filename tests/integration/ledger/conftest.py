"""Fixtures of the ledger integration tests: a private PostgreSQL schema per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
POSTGRES_URL = os.environ.get("TWOKEY_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL ledger URL with a fresh schema of its own, dropped afterwards.

    Tests run in parallel (pytest-xdist) against one database, so each gets a unique schema
    through ``?schema=`` (the store sets ``search_path``). Skips with the reason when no server
    answers, unless ``TWOKEY_REQUIRE_POSTGRES=1`` (CI), which turns the skip into a failure.
    """
    import psycopg  # noqa: PLC0415 - only the PostgreSQL tests pay for the import

    schema = f"ledger_t_{uuid.uuid4().hex[:16]}"
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


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test against a SQLite file and a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'ledger.db'}"
    return str(request.getfixturevalue("pg_url"))
