"""Deploys through the gateway over real HTTP, on SQLite and PostgreSQL (issue 11, points 2, 6).

One gateway per engine serves the whole module; a test that authorizes a deploy uses an
environment of its own (``e1``..``e8``), since an authorized deploy starts the next release.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.integration.doors._deploys import ARTIFACT
from tests.integration.gateway._deploy_world import DeployWorld, make_deploy_world, postgres_schema
from tests.integration.git._harness import Keys
from twokey.ledger import EntryKind, open_ledger, parse_entry, read_record


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys.generate()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def dw(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, keys: Keys
) -> Iterator[DeployWorld]:
    root = tmp_path_factory.mktemp(f"deploys-{request.param}")
    schemas: Generator[str, None, None] | None = (
        postgres_schema() if request.param == "postgres" else None
    )
    database = next(schemas) if schemas is not None else ""
    world = make_deploy_world(root, keys, database)
    try:
        yield world
    finally:
        world.gateway.stop()
        if schemas is not None:
            schemas.close()


def _codes(data: dict[str, object]) -> set[str]:
    decision = data["decision"]
    assert isinstance(decision, dict)
    return {f["code"] for f in decision["findings"]}


def _ledger_url(dw: DeployWorld) -> str:
    return dw.database or f"sqlite://{dw.gateway.data / 'gateway.db'}"


def test_the_story_ci_requests_authors_are_refused_dave_authorizes(dw: DeployWorld) -> None:
    asked = dw.request("production")
    assert asked.status_code == 201, asked.text
    data = asked.json()
    assert data["state"] == "pending"
    assert data["requester"] == "ci"
    assert _codes(data) >= {"INSUFFICIENT_DEPLOY_APPROVALS"}
    deploy = data["id"]
    shas = [c["sha"] for c in data["custody"]["release"]]
    assert dw.z in shas
    assert dw.world.commits["X"] in shas
    alice = dw.act(deploy, "approve", "alice")
    assert alice.status_code == 403
    assert "alice wrote commit" in alice.json()["error"]
    bob = dw.act(deploy, "approve", "bob")
    assert bob.status_code == 403
    assert "not an approver" in bob.json()["error"]
    carol = dw.act(deploy, "approve", "carol")  # an approver, but she wrote X
    assert carol.status_code == 403
    assert "carol wrote commit" in carol.json()["error"]
    ci = dw.act(deploy, "approve", "ci")
    assert ci.status_code == 403
    assert "service" in ci.json()["error"]
    with dw.client("dave") as http:
        assert http.get(f"/v1/deploys/{deploy}").json()["you"]["may_approve"] is True
        assert http.get(f"/v1/deploys/{deploy}/authorization").status_code == 409
    dave = dw.act(deploy, "approve", "dave")
    assert dave.status_code == 200, dave.text
    view = dave.json()
    assert view["state"] == "authorized"
    assert [a["person"] for a in view["approvals"]] == ["dave"]
    assert view["authorization"]["commit"] == dw.z
    again = dw.act(deploy, "approve", "dave")
    assert again.status_code == 409
    with dw.client("ci") as http:
        note = http.get(f"/v1/deploys/{deploy}/authorization")
        assert note.status_code == 200
        key = http.get("/v1/key").text
    assert note.text.startswith("twokey deploy authorization v1\n")
    steps = [s["step"] for s in view["timeline"]]
    assert steps[0] == "commit"
    assert "provenance" in steps
    assert steps[-1] == "authorization"
    _verify_with_the_cli(dw, note.text, key, "production")
    _ledger_holds_the_story(dw, deploy)


def _verify_with_the_cli(dw: DeployWorld, note: str, key: str, environment: str) -> None:
    root = dw.root
    (root / "auth.note").write_text(note)
    (root / "gateway.pub").write_text(key)
    args = [
        "deploy",
        "verify",
        "--authorization",
        str(root / "auth.note"),
        "--key",
        str(root / "gateway.pub"),
        "--environment",
        environment,
        "--commit",
        dw.z,
        "--artifact",
        ARTIFACT,
        "--repository",
        "shop",
        "--seen",
        str(root / "seen.journal"),
    ]
    first = dw.twokey(*args)
    assert first.returncode == 0, first.stdout + first.stderr
    replay = dw.twokey(*args)
    assert replay.returncode == 1
    assert "replay" in replay.stdout + replay.stderr


def _ledger_holds_the_story(dw: DeployWorld, deploy: str) -> None:
    with open_ledger(_ledger_url(dw)) as ledger:
        records = [read_record(parse_entry(data)) for _, data in ledger.entries()]
    events = [
        (type(r).__name__, getattr(r, "event", ""))
        for r in records
        if getattr(r, "request", deploy) == deploy and getattr(r, "door", "") == "gateway"
    ]
    assert ("GatewayDeployRecord", "requested") in events
    assert ("GatewayDeployRecord", "approved") in events
    assert ("GatewayDeployRecord", "authorized") in events
    deploys = [r for r in records if getattr(r, "kind", None) is EntryKind.DEPLOY]
    assert any((r.decision or {}).get("verdict") == "allow" for r in deploys)  # type: ignore[union-attr]


def test_unauthenticated_callers_change_nothing(dw: DeployWorld) -> None:
    deploy = dw.request("production").json()["id"]
    with dw.client() as http:
        for path, body in [
            ("/v1/deploys", {"environment": "production", "commit": dw.z, "artifact": ARTIFACT}),
            (f"/v1/deploys/{deploy}/approve", None),
            (f"/v1/deploys/{deploy}/reject", {"reason": "no"}),
            (f"/v1/deploys/{deploy}/cancel", None),
        ]:
            answer = http.post(path, json=body)
            assert answer.status_code == 401, (path, answer.text)
        assert http.get(f"/v1/deploys/{deploy}").status_code == 401
    with dw.client("erin") as http:
        assert http.get(f"/v1/deploys/{deploy}").json()["state"] == "pending"


def _unused(tmp: Path) -> None:  # pragma: no cover - keeps Path imported for later tests
    del tmp
