"""``twokey serve --run ENV=COMMAND``: the gateway runs the authorized deploy itself, once.

Two gateway processes on one database both poll for authorized deploys; the command verifies
its own authorization with ``twokey deploy verify`` (as a real deploy script would); a command
that outlives ``--run-timeout`` is killed with its whole process group.
"""

from __future__ import annotations

import shlex
import sys
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.doors._deploys import ARTIFACT
from tests.integration.gateway._deploy_world import DeployWorld, make_deploy_world, postgres_schema
from tests.integration.git._harness import Keys
from tests.support.gateway import start_gateway
from twokey.ledger import GatewayDeployRecord, open_ledger, parse_entry, read_record


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys.generate()


def _commands(out: Path) -> list[str]:
    python = shlex.quote(sys.executable)
    verify = (
        f'{python} -m twokey deploy verify --authorization "$DEPLOY_AUTHORIZATION" '
        f'--key {out}/gateway.pub --environment "$DEPLOY_ENVIRONMENT" '
        f'--commit "$DEPLOY_COMMIT" --artifact "$DEPLOY_ARTIFACT" --repository shop '
        f"--seen {out}/seen"
    )
    return [
        "--run",
        f'e1=echo "$DEPLOY_ID $DEPLOY_COMMIT $DEPLOY_ARTIFACT" >> {out}/ran && {verify}',
        "--run",
        f"e2=sleep 60 & echo $! > {out}/child; echo started; wait",
        "--run",
        "e3=echo broken >&2; exit 3",
        "--run-timeout",
        "6",  # e1 starts a Python process: room for a loaded machine
    ]


@pytest.fixture(params=["sqlite", "postgres"])
def dw(request: pytest.FixtureRequest, tmp_path: Path, keys: Keys) -> Iterator[DeployWorld]:
    schemas: Generator[str, None, None] | None = (
        postgres_schema() if request.param == "postgres" else None
    )
    database = next(schemas) if schemas is not None else ""
    out = tmp_path / "out"
    out.mkdir()
    world = make_deploy_world(tmp_path, keys, database, *_commands(out))
    with world.client("ci") as http:
        (out / "gateway.pub").write_text(http.get("/v1/key").text)
    try:
        yield world
    finally:
        world.gateway.stop()
        if schemas is not None:
            schemas.close()


def _authorize(dw: DeployWorld, environment: str) -> str:
    deploy = str(dw.request(environment).json()["id"])
    approved = dw.act(deploy, "approve", "dave")
    assert approved.json()["state"] == "authorized", approved.text
    return deploy


def _settled(dw: DeployWorld, deploy: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    with dw.client("erin") as http:
        while time.monotonic() < deadline:
            view = http.get(f"/v1/deploys/{deploy}").json()
            if view["state"] in ("deployed", "failed"):
                run = http.get(f"/v1/deploys/{deploy}/run").json()
                return {"view": view, "run": run}
            time.sleep(0.2)
    raise AssertionError(f"deploy {deploy} never finished: {view['state']}")


def _events(dw: DeployWorld, deploy: str) -> list[GatewayDeployRecord]:
    url = dw.database or f"sqlite://{dw.gateway.data / 'gateway.db'}"
    with open_ledger(url) as ledger:
        records = [read_record(parse_entry(data)) for _, data in ledger.entries()]
    return [r for r in records if isinstance(r, GatewayDeployRecord) and r.request == deploy]


def test_the_gateway_runs_an_authorized_deploy_once_across_processes(dw: DeployWorld) -> None:
    other = start_gateway(
        dw.root / "data2",
        *_commands(dw.root / "out"),
        "--key",
        str(dw.gateway.data / "ledger.key"),
        repo=dw.world.origin.path,
        database=dw.database or f"sqlite://{dw.gateway.data / 'gateway.db'}",
    )
    try:
        deploy = _authorize(dw, "e1")
        done = _settled(dw, deploy)
        time.sleep(1.5)  # both runners polled again: neither runs it a second time
    finally:
        other.stop()
    assert done["view"]["state"] == "deployed", done
    assert done["run"]["exit"] == 0
    assert "✓ authorized" in done["run"]["output"]  # the command verified its authorization
    ran = (dw.root / "out" / "ran").read_text().splitlines()
    assert ran == [f"{deploy} {dw.z} {ARTIFACT}"]
    events = [e.event for e in _events(dw, deploy)]
    assert events.count("run-started") == 1
    assert events[-2:] == ["run-started", "run-finished"]
    with dw.client("erin") as http:
        assert http.get(f"/v1/deploys/{deploy}/authorization").status_code == 200


def test_a_failing_command_and_a_timeout_are_recorded(dw: DeployWorld) -> None:
    failing = _settled(dw, _authorize(dw, "e3"))
    assert failing["view"]["state"] == "failed"
    assert (failing["run"]["exit"], failing["run"]["timed_out"]) == (3, False)
    assert "broken" in failing["run"]["output"]
    slow = _authorize(dw, "e2")
    hung = _settled(dw, slow)
    assert hung["view"]["state"] == "failed"
    assert hung["run"]["timed_out"] is True
    assert "killed after the run timeout" in hung["run"]["output"]
    child = int((dw.root / "out" / "child").read_text())
    assert not _alive(child), "the background child of the command survived the group kill"
    finished = [e for e in _events(dw, slow) if e.event == "run-finished"]
    assert finished[0].detail["timed_out"] is True


def test_no_run_before_authorization(dw: DeployWorld) -> None:
    deploy = dw.request("e1").json()["id"]  # pending
    time.sleep(1.5)
    with dw.client("erin") as http:
        assert http.get(f"/v1/deploys/{deploy}/run").status_code == 404
    assert not (dw.root / "out" / "ran").exists()


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead, only not yet reaped
