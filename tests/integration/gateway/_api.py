"""Helpers of the API tests: a gateway shared by a test module, service tokens, schemas."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.integration.doors._deploys import World, make_world
from tests.integration.git._harness import Keys
from tests.support.gateway import RunningGateway, issue_token, start_gateway
from tests.support.postgres import private_schema

MAIN = "refs/heads/main"


def pg_schema() -> AbstractContextManager[str]:
    """A PostgreSQL URL with a fresh schema (dropped afterwards); skips without a server."""
    return private_schema("gw_t")


def database_of(data: Path, database: str) -> str:
    """The URL a gateway started with ``--data data --database database`` uses."""
    return database or f"sqlite://{data / 'gateway.db'}"


def service_token(url: str, subject: str = "ci", kind: str = "service") -> str:
    """A token issued in the gateway's database (what an operator gives a CI job)."""
    return issue_token(url, kind, subject, name=f"{subject} test")


@dataclass
class Api:
    """A deploy world, a gateway over its origin, a service token, the database URL."""

    world: World
    gateway: RunningGateway
    token: str
    database: str

    def commit(self, name: str) -> str:
        """A commit id of the world (``P``, ``X``, ``Y``, ``Z``)."""
        return self.world.commits[name]


@contextmanager
def running_api(
    root: Path, keys: Keys, engine: str, *, application_name: str = ""
) -> Iterator[Api]:
    """Start a gateway on ``engine`` (sqlite or postgres) over a fresh world; on PostgreSQL,
    ``application_name`` names its connections (``pg_stat_activity``)."""
    world = make_world(root / "world", keys)
    world.origin.git("config", "twokey.repository", "shop")
    with pg_schema() if engine == "postgres" else _sqlite() as url:
        named = url and application_name
        database = f"{url}&application_name={application_name}" if named else url
        gateway = start_gateway(root / "data", repo=world.origin.path, database=database)
        try:
            where = database_of(gateway.data, database)
            yield Api(world, gateway, service_token(where), where)
        finally:
            gateway.stop()


@contextmanager
def _sqlite() -> Iterator[str]:
    yield ""
