"""Deploys when things go wrong: concurrent approvals on several processes, a ledger that
cannot be written, a database that is gone. Each test starts its own gateways (it breaks them).
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.gateway._deploy_world import DeployWorld, make_deploy_world, postgres_schema
from tests.integration.git._harness import Keys
from tests.support.gateway import RunningGateway, start_gateway
from twokey.forge import open_database
from twokey.ledger import GatewayDeployRecord, open_ledger, parse_entry, read_record


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys.generate()


@pytest.fixture(params=["sqlite", "postgres"])
def dw(request: pytest.FixtureRequest, tmp_path: Path, keys: Keys) -> Iterator[DeployWorld]:
    schemas: Generator[str, None, None] | None = (
        postgres_schema() if request.param == "postgres" else None
    )
    database = next(schemas) if schemas is not None else ""
    world = make_deploy_world(tmp_path, keys, database)
    try:
        yield world
    finally:
        world.gateway.stop()
        if schemas is not None:
            schemas.close()


def _url(dw: DeployWorld) -> str:
    return dw.database or f"sqlite://{dw.gateway.data / 'gateway.db'}"


def _events(dw: DeployWorld, deploy: str) -> list[str]:
    with open_ledger(_url(dw)) as ledger:
        records = [read_record(parse_entry(data)) for _, data in ledger.entries()]
    return [r.event for r in records if isinstance(r, GatewayDeployRecord) and r.request == deploy]


def _second(dw: DeployWorld) -> RunningGateway:
    """Another process of the same gateway: same database, same key, same repository."""
    return start_gateway(
        dw.root / "data2",
        "--key",
        str(dw.gateway.data / "ledger.key"),
        repo=dw.world.origin.path,
        database=_url(dw),
    )


def test_concurrent_approvals_on_two_processes_give_one_authorization(dw: DeployWorld) -> None:
    other = _second(dw)
    try:
        for environment in ("e1", "e2", "e3"):
            deploy = dw.request(environment).json()["id"]
            statuses = _race(
                [dw.gateway.url, other.url, dw.gateway.url, other.url], dw.tokens["dave"], deploy
            )
            assert sorted(statuses) == [200, 409, 409, 409], statuses
            with dw.client("dave") as http:
                view = http.get(f"/v1/deploys/{deploy}").json()
                assert http.get(f"/v1/deploys/{deploy}/authorization").status_code == 200
            assert view["state"] == "authorized"
            assert [a["person"] for a in view["approvals"]] == ["dave"]
            assert _events(dw, deploy).count("authorized") == 1
            assert _events(dw, deploy).count("approved") == 1
    finally:
        other.stop()


def _race(urls: list[str], token: str, deploy: str) -> list[int]:
    barrier = threading.Barrier(len(urls))
    statuses: list[int] = []
    lock = threading.Lock()

    def approve(url: str) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as http:
            barrier.wait()
            status = http.post(f"/v1/deploys/{deploy}/approve", timeout=60).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=approve, args=(u,)) for u in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    return statuses


def _break_the_ledger(dw: DeployWorld, broken: bool) -> None:
    """Make every ledger append fail (a trigger on the entries table), or mend it."""
    db = open_database(_url(dw))
    try:
        if not db.postgres:
            db.execute(
                "CREATE TRIGGER twokey_test_fail BEFORE INSERT ON twokey_entries "
                "BEGIN SELECT RAISE(ABORT, 'the ledger disk failed'); END"
                if broken
                else "DROP TRIGGER twokey_test_fail"
            )
        elif broken:
            db.execute(
                "CREATE FUNCTION twokey_test_fail() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'the ledger disk failed'; END $$ LANGUAGE plpgsql"
            )
            db.execute(
                "CREATE TRIGGER twokey_test_fail BEFORE INSERT ON twokey_entries "
                "FOR EACH ROW EXECUTE FUNCTION twokey_test_fail()"
            )
        else:
            db.execute("DROP TRIGGER twokey_test_fail ON twokey_entries")
    finally:
        db.close()


def test_a_ledger_that_cannot_be_written_denies_and_changes_nothing(dw: DeployWorld) -> None:
    deploy = dw.request("e1").json()["id"]
    _break_the_ledger(dw, True)
    try:
        approve = dw.act(deploy, "approve", "dave")
        assert approve.status_code == 503, approve.text
        assert "ledger" in approve.json()["error"]
        asked = dw.request("e2")
        assert asked.status_code == 503
        reject = dw.act(deploy, "reject", "dave", reason="no")
        assert reject.status_code == 503
    finally:
        _break_the_ledger(dw, False)
    with dw.client("dave") as http:
        view = http.get(f"/v1/deploys/{deploy}").json()
        assert http.get(f"/v1/deploys/{deploy}/authorization").status_code == 409
        listed = http.get("/v1/deploys").json()["deploys"]
    assert (view["state"], view["approvals"]) == ("pending", [])
    assert [v["id"] for v in listed] == [deploy]  # the refused request was never created
    assert _events(dw, deploy) == ["requested"]
    assert dw.act(deploy, "approve", "dave").json()["state"] == "authorized"  # mended


def test_a_database_that_is_gone_answers_503_and_authorizes_nothing(
    dw: DeployWorld,
) -> None:
    if not dw.database:
        pytest.skip("PostgreSQL: the schema is dropped under the running gateway")
    deploy = dw.request("e1").json()["id"]
    db = open_database(dw.database)
    try:
        schema = dw.database.rsplit("schema=", 1)[1]
        db.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        db.close()
    approve = dw.act(deploy, "approve", "dave")
    assert approve.status_code == 503, approve.text
    with dw.client() as http:
        assert http.get("/readyz").status_code == 503
    with httpx.Client(base_url=dw.gateway.url) as http:
        note = http.get(
            f"/v1/deploys/{deploy}/authorization",
            headers={"Authorization": f"Bearer {dw.tokens['dave']}"},
        )
    assert note.status_code in (401, 503)  # no token table, no deploys: nothing authorized
