"""Several gateway processes on one PostgreSQL, and the database failing under a gateway.

* Four ``twokey serve`` processes (one key) take checks concurrently; afterwards the ledger is
  one consistent log: ``twokey ledger verify`` over the database and over each process's tiles.
* The database stops mid-run: the gateway's PostgreSQL connections are terminated, or the
  ledger's and the tokens' tables vanish (SQLite and PostgreSQL). Checks answer 503 with a
  deny, ``/readyz`` fails naming the ledger and the database, nothing is recorded; when the
  database is back, the next requests reconnect and decide again.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.integration.doors._deploys import make_world
from tests.integration.gateway._api import (
    MAIN,
    Api,
    pg_schema,
    running_api,
    service_token,
)
from tests.integration.git._harness import Keys
from tests.integration.ledger.conftest import POSTGRES_URL
from tests.support.gateway import RunningGateway, start_gateway
from twokey.cli import main
from twokey.ledger import NoteSigner, generate_signer, open_ledger

CHECKS = 120


def test_four_processes_on_one_postgresql_keep_one_log(tmp_path: Path, keys: Keys) -> None:
    world = make_world(tmp_path / "world", keys)
    world.origin.git("config", "twokey.repository", "shop")
    key = tmp_path / "gateway.key"
    key.write_text(generate_signer("twokey-gateway").text() + "\n")
    key.chmod(0o600)
    public = tmp_path / "gateway.pub"
    public.write_text(NoteSigner.parse(key.read_text()).verifier().text() + "\n")
    with pg_schema() as database:
        gateways: list[RunningGateway] = []
        try:
            for n in range(4):
                gateways.append(
                    start_gateway(
                        tmp_path / f"data{n}",
                        "--key",
                        str(key),
                        repo=world.origin.path,
                        database=database,
                    )
                )
            token = service_token(database)
            body = {"ref": MAIN, "old": world.commits["P"], "new": world.commits["Y"]}

            def one(n: int) -> tuple[int, object]:
                gateway = gateways[n % 4]
                answer = httpx.post(
                    f"{gateway.url}/v1/checks",
                    json=body,
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=60,
                )
                if answer.status_code != 200:
                    return answer.status_code, answer.text
                return answer.status_code, answer.json()["ledger_index"]

            with ThreadPoolExecutor(16) as pool:
                results = list(pool.map(one, range(CHECKS)))
            failed = [json.loads(str(r[1]))["findings"] for r in results if r[0] != 200]
            assert not failed, failed[:2]
            indexes = sorted(int(str(index)) for _, index in results)
            assert len(set(indexes)) == CHECKS  # each decision has its own entry
            for gateway in gateways:  # every process serves the same signed log
                url = f"{gateway.url}/ledger/v1/"
                assert main(["ledger", "verify", "--url", url, "--key", str(public)]) == 0
        finally:
            for gateway in gateways:
                gateway.stop()
        with open_ledger(database) as ledger:
            assert ledger.size() == CHECKS
        assert main(["ledger", "verify", "--ledger", database, "--key", str(public)]) == 0


@pytest.fixture(params=["sqlite", "postgres"])
def outage_api(
    request: pytest.FixtureRequest, tmp_path: Path, keys: Keys
) -> Iterator[tuple[Api, str]]:
    """A gateway whose PostgreSQL connections carry a name of their own (to terminate)."""
    name = f"gw_outage_{uuid.uuid4().hex[:12]}"
    with running_api(tmp_path, keys, request.param, application_name=name) as api:
        yield api, name


def post_check(api: Api) -> httpx.Response:
    body = {"ref": MAIN, "old": api.commit("P"), "new": api.commit("Y")}
    with api.gateway.client(api.token) as http:
        return http.post("/v1/checks", json=body)


def rename(api: Api, tables: dict[str, str]) -> None:
    """Make tables vanish (or come back), as another client of the database would."""
    if api.database.startswith("sqlite://"):
        import sqlite3  # noqa: PLC0415

        with sqlite3.connect(api.database.removeprefix("sqlite://")) as conn:
            for old, new in tables.items():
                conn.execute(f"ALTER TABLE {old} RENAME TO {new}")
        return
    import psycopg  # noqa: PLC0415

    schema = api.database.split("schema=")[1].split("&")[0]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        for old, new in tables.items():
            conn.execute(f"ALTER TABLE {schema}.{old} RENAME TO {new}")


def test_the_database_failing_denies_and_heals(outage_api: tuple[Api, str]) -> None:
    api, name = outage_api
    assert post_check(api).status_code == 200
    with open_ledger(api.database) as ledger:
        size = ledger.size()

    if not api.database.startswith("sqlite://"):  # the server drops the connections
        import psycopg  # noqa: PLC0415

        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            killed = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s",
                (name,),
            ).fetchall()
        assert killed
        ready = api.gateway.client().get("/readyz")
        assert ready.status_code == 503
        assert "database" in ready.json()["problems"], ready.json()
        answers = [post_check(api).status_code for _ in range(3)]
        assert answers[-1] == 200, answers  # reconnected on the next request
        with open_ledger(api.database) as ledger:
            size = ledger.size()
            assert size == 1 + answers.count(200)

    ledger_tables = {"twokey_entries": "gone_entries", "twokey_head": "gone_head"}
    rename(api, ledger_tables)
    denied = post_check(api)
    assert denied.status_code == 503, denied.text
    assert denied.json()["verdict"] == "deny"
    assert denied.json()["findings"][0]["code"] == "INTERNAL_ERROR"
    assert denied.json()["ledger_index"] is None
    rename(api, {"twokey_gateway_tokens": "gone_tokens"})
    assert post_check(api).status_code == 503  # not even the caller can be known
    ready = api.gateway.client().get("/readyz")
    assert ready.status_code == 503
    assert {"database", "ledger"} <= set(ready.json()["problems"]), ready.json()

    rename(
        api, {v: k for k, v in {**ledger_tables, "twokey_gateway_tokens": "gone_tokens"}.items()}
    )
    assert post_check(api).status_code == 200
    assert api.gateway.client().get("/readyz").status_code == 200
    with open_ledger(api.database) as ledger:
        assert ledger.size() == size + 1  # nothing of the outage was recorded
    url = f"{api.gateway.url}/ledger/v1/"
    public = api.gateway.data.parent / "gateway.pub"
    public.write_text(api.gateway.client().get("/v1/ledger/key").text)
    assert main(["ledger", "verify", "--url", url, "--key", str(public)]) == 0


LEDGER_TABLES = ("twokey_entries", "twokey_nodes", "twokey_head", "twokey_checkpoints")


def drop_ledger(api: Api) -> None:
    """Drop the ledger's tables (and its migrations), as a botched restore would."""
    tables = [*LEDGER_TABLES, "twokey_migrations"]
    if api.database.startswith("sqlite://"):
        import sqlite3  # noqa: PLC0415

        with sqlite3.connect(api.database.removeprefix("sqlite://")) as conn:
            for table in tables:
                conn.execute(f"DROP TABLE {table}")
        return
    import psycopg  # noqa: PLC0415

    schema = api.database.split("schema=")[1].split("&")[0]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute("DROP TABLE " + ", ".join(f"{schema}.{t}" for t in tables))


def test_a_replaced_empty_ledger_is_never_written(outage_api: tuple[Api, str]) -> None:
    """Attack or accident: the ledger is replaced by an empty one under a running gateway.

    Reconnecting would re-create it and start a second log at index 0, which an auditor who
    followed the first one could not tell from a rollback. The gateway refuses: 503, deny."""
    api, _ = outage_api
    for _ in range(3):
        assert post_check(api).status_code == 200
    drop_ledger(api)
    for _ in range(3):
        answer = post_check(api)
        assert answer.status_code == 503, answer.text
        assert answer.json()["verdict"] == "deny"
    assert "fewer than the 3" in answer.json()["findings"][0]["message"]
    with open_ledger(api.database) as ledger:
        assert ledger.size() == 0  # nothing was written to the new log
