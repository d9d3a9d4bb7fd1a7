"""Helpers of the sign-in tests: sign a gateway nonce, sign in, read the gateway's database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.doors._deploys import World, make_world
from tests.integration.git._harness import Keys
from tests.support.gateway import RunningGateway, start_gateway
from twokey.evidence import sign_sshsig
from twokey.ledger import AccessRecord, open_ledger, parse_entry, read_record

NAMESPACE = "twokey-login"


@dataclass
class Served:
    """A deploy world and a gateway serving it (SQLite in ``gateway.data``)."""

    world: World
    gateway: RunningGateway

    @property
    def db(self) -> Path:
        """The gateway's SQLite file."""
        return self.gateway.data / "gateway.db"

    def sql(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run SQL on the gateway's database, as an operator (or an attacker with the file)."""
        with closing(sqlite3.connect(self.db)) as conn, conn:
            return conn.execute(statement, params).fetchall()


@contextmanager
def serve(root: Path, keys: Keys, *args: str, database: str = "") -> Iterator[Served]:
    """A gateway over a fresh deploy world, stopped on leaving."""
    world = make_world(root / "world", keys)
    world.origin.git("config", "twokey.repository", "shop")
    gateway = start_gateway(root / "data", *args, repo=world.origin.path, database=database)
    try:
        yield Served(world, gateway)
    finally:
        gateway.stop()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Iterator[Served]:
    """One gateway (SQLite) shared by the tests of a module."""
    with serve(tmp_path_factory.mktemp("signin"), keys) as running:
        yield running


def nonce(http: httpx.Client, person: str = "") -> str:
    """A fresh nonce from the gateway."""
    answer = http.post("/v1/login/nonce", json={"person": person} if person else None)
    assert answer.status_code == 200, answer.text
    value: str = answer.json()["nonce"]
    return value


def signature(keys: Keys, who: str, message: str, namespace: str = NAMESPACE) -> str:
    """``who``'s SSHSIG over ``message`` (as ssh-keygen -Y sign makes it)."""
    return sign_sshsig(keys.signers[who].key, message.encode(), namespace)


def login(http: httpx.Client, keys: Keys, who: str, person: str | None = None) -> httpx.Response:
    """Sign in as ``person`` (default ``who``) with ``who``'s key."""
    value = nonce(http)
    body = {"person": who if person is None else person, "nonce": value}
    return http.post("/v1/login", json=body | {"signature": signature(keys, who, value)})


def token(http: httpx.Client, keys: Keys, who: str) -> str:
    """A person token for ``who``."""
    answer = login(http, keys, who)
    assert answer.status_code == 200, answer.text
    value: str = answer.json()["token"]
    return value


def access_records(database_url: str) -> list[AccessRecord]:
    """Every ``access`` record in the gateway's ledger."""
    ledger = open_ledger(database_url)
    try:
        records = [read_record(parse_entry(data)) for _, data in ledger.entries()]
    finally:
        ledger.close()
    return [r for r in records if isinstance(r, AccessRecord)]
