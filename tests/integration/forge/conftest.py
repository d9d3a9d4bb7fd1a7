"""Fixtures of the forge tests: the ledger's PostgreSQL fixture, and a database per engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.ledger.conftest import pg_url

__all__ = ["database_url", "pg_url"]


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """One ledger URL (the forge's tables live beside the ledger) per database engine."""
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'ledger.db'}"
    return str(request.getfixturevalue("pg_url"))
