"""Fixtures of the ledger integration tests: a private PostgreSQL schema per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.postgres import POSTGRES_URL, private_schema

__all__ = ["POSTGRES_URL", "ledger_url", "pg_url"]

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL ledger URL with a fresh schema of its own, dropped afterwards
    (``tests.support.postgres``)."""
    with private_schema("ledger_t") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test against a SQLite file and a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'ledger.db'}"
    return str(request.getfixturevalue("pg_url"))
