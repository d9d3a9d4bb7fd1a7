"""Fixtures of the forge tests: the ledger tests' databases (a SQLite file and a PostgreSQL
schema), and a database URL per engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.ledger.conftest import ledger_url, pg_url

__all__ = ["database_url", "ledger_url", "pg_url"]


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """One ledger URL (the forge's tables live beside the ledger) per database engine."""
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'ledger.db'}"
    return str(request.getfixturevalue("pg_url"))
