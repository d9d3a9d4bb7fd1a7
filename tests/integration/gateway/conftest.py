"""Fixtures of the gateway tests: a repository with the policy, a running gateway per engine.

``gateway_world`` starts ``twokey serve`` against an origin (bare) repository whose ``main``
carries the deploy tests' policy (everyone's key; environments ``production`` and
``frozen``), on SQLite and on PostgreSQL (a private schema).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.doors._deploys import World, make_world
from tests.integration.git._harness import Keys
from tests.integration.ledger.conftest import pg_url
from tests.support.gateway import RunningGateway, start_gateway

__all__ = ["GatewayWorld", "database_url", "gateway_world", "keys", "pg_url"]


@pytest.fixture(scope="session")
def keys() -> Keys:
    """Everyone's Ed25519 signers (generated once per session)."""
    return Keys.generate()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The gateway's database: '' (SQLite in its data directory) or a PostgreSQL schema."""
    if request.param == "sqlite":
        return ""
    return str(request.getfixturevalue("pg_url"))


@dataclass
class GatewayWorld:
    """A deploy world (origin with policy and commits) and a gateway serving it."""

    world: World
    gateway: RunningGateway
    database: str


@pytest.fixture
def gateway_world(tmp_path: Path, keys: Keys, database_url: str) -> Iterator[GatewayWorld]:
    """A running gateway over the deploy world's origin, on each database engine."""
    world = make_world(tmp_path / "world", keys)
    world.origin.git("config", "twokey.repository", "shop")
    gateway = start_gateway(tmp_path / "data", repo=world.origin.path, database=database_url)
    try:
        yield GatewayWorld(world, gateway, database_url)
    finally:
        gateway.stop()
