"""Deploys through the gateway over real HTTP, on SQLite and PostgreSQL (issue 11, points 2, 6).

One gateway per engine serves the whole module; a test that authorizes a deploy uses an
environment of its own (``e1``..``e8``), since an authorized deploy starts the next release.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.integration.doors._deploys import ARTIFACT
from tests.integration.gateway._deploy_world import DeployWorld, make_deploy_world, postgres_schema
from tests.integration.git._harness import Keys
from twokey.ledger import EntryKind, GatewayDeployRecord, open_ledger, parse_entry, read_record


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
    asked = dw.request("e1")
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
    _verify_with_the_cli(dw, note.text, key, "e1")
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


def test_two_approvals_accumulate_and_each_is_recorded(dw: DeployWorld) -> None:
    deploy = dw.request("pair").json()["id"]
    first = dw.act(deploy, "approve", "dave").json()
    assert first["state"] == "pending"  # one of two
    assert [a["person"] for a in first["approvals"]] == ["dave"]
    assert dw.act(deploy, "approve", "dave").status_code == 403  # not twice
    second = dw.act(deploy, "approve", "frank").json()
    assert second["state"] == "authorized"
    assert sorted(a["person"] for a in second["approvals"]) == ["dave", "frank"]
    counted = {c["person"] for c in second["decision"]["counted"]}
    assert {"dave", "frank"} <= counted
    assert _events(dw, deploy) == ["requested", "approved", "approved", "authorized"]
    issued = datetime.fromisoformat(second["authorization"]["issued"].replace("Z", "+00:00"))
    expires = datetime.fromisoformat(second["authorization"]["expires"].replace("Z", "+00:00"))
    assert (expires - issued).total_seconds() == 900  # the default validity


def _events(dw: DeployWorld, deploy: str) -> list[str]:
    with open_ledger(_ledger_url(dw)) as ledger:
        records = [read_record(parse_entry(data)) for _, data in ledger.entries()]
    return [r.event for r in records if isinstance(r, GatewayDeployRecord) and r.request == deploy]


def test_unauthenticated_callers_change_nothing(dw: DeployWorld) -> None:
    deploy = dw.request("production").json()["id"]
    with dw.client() as http:
        for path, body in [
            ("/v1/deploys", {"environment": "production", "commit": dw.z, "artifact": ARTIFACT}),
            (f"/v1/deploys/{deploy}/approve", None),
            (f"/v1/deploys/{deploy}/reject", {"reason": "no"}),
            (f"/v1/deploys/{deploy}/cancel", None),
            ("/v1/break-glass/0/review", {"envelope": "{}"}),
        ]:
            answer = http.post(path, json=body)
            assert answer.status_code == 401, (path, answer.text)
        for path in (f"/v1/deploys/{deploy}", "/v1/deploys", f"/v1/deploys/{deploy}/run"):
            assert http.get(path).status_code == 401, path
    with dw.client("erin") as http:
        assert http.get(f"/v1/deploys/{deploy}").json()["state"] == "pending"


def _snapshot(dw: DeployWorld) -> tuple[int, list[tuple[str, str]]]:
    """The ledger's size and every request's (id, state): what must not change."""
    with open_ledger(_ledger_url(dw)) as ledger:
        size = ledger.size()
    with dw.client("erin") as http:
        views = http.get("/v1/deploys", params={"limit": 500}).json()["deploys"]
    return size, sorted((v["id"], v["state"]) for v in views)


def test_a_caller_the_policy_does_not_know_is_refused(dw: DeployWorld) -> None:
    """A valid token for someone who is nobody in the policy (left, or never there)."""
    before = _snapshot(dw)
    token = dw.issue("person", "mallory", credential=f"key:{dw.world.keys.public()['stranger']}")
    with dw.gateway.client(token) as http:
        body = {"environment": "production", "commit": dw.z, "artifact": ARTIFACT}
        asked = http.post("/v1/deploys", json=body)
    assert asked.status_code == 403, asked.text
    assert "mallory is no longer a person in the trusted policy" in asked.json()["error"]
    assert _snapshot(dw) == before


def test_service_tokens_request_but_never_approve_or_reject(dw: DeployWorld) -> None:
    deploy = dw.request("production").json()["id"]
    for action, body in (("approve", {}), ("reject", {"reason": "no"})):
        answer = dw.act(deploy, action, "ci", **body)
        assert answer.status_code == 403, answer.text
        assert "ci is a service" in answer.json()["error"]


def test_reject_needs_an_operator_and_a_reason_and_ends_the_request(dw: DeployWorld) -> None:
    deploy = dw.request("production").json()["id"]
    bob = dw.act(deploy, "reject", "bob", reason="I do not like it")
    assert bob.status_code == 403
    assert "neither an approver nor a deployer" in bob.json()["error"]
    assert dw.act(deploy, "reject", "dave", reason="   ").status_code == 400
    rejected = dw.act(deploy, "reject", "dave", reason="not during the sale")
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["state"], rejected.json()["reason"]) == (
        "rejected",
        "not during the sale",
    )
    assert dw.act(deploy, "approve", "dave").status_code == 409
    with dw.client("ci") as http:
        assert http.get(f"/v1/deploys/{deploy}/authorization").status_code == 409
        listed = http.get("/v1/deploys", params={"state": "rejected"}).json()["deploys"]
    assert deploy in [v["id"] for v in listed]


def test_only_the_requester_cancels(dw: DeployWorld) -> None:
    deploy = dw.request("production").json()["id"]
    dave = dw.act(deploy, "cancel", "dave")
    assert dave.status_code == 403
    assert "only the requester (ci)" in dave.json()["error"]
    assert dw.act(deploy, "cancel", "ci").json()["state"] == "cancelled"
    assert dw.act(deploy, "cancel", "ci").status_code == 409
    assert dw.act(deploy, "approve", "dave").status_code == 409


def test_who_may_not_deploy_is_denied_not_pending(dw: DeployWorld) -> None:
    """alice requests her own release: she is no deployer, and she wrote it."""
    data = dw.request("production", "alice").json()
    assert data["state"] == "denied"
    assert {"UNAUTHORIZED_DEPLOYER"} <= _codes(data)
    assert dw.act(data["id"], "approve", "dave").status_code == 409
    unknown = dw.request("nowhere").json()
    assert unknown["state"] == "denied"
    assert "UNKNOWN_ENVIRONMENT" in _codes(unknown)


def test_waiting_for_lists_what_a_person_may_approve(dw: DeployWorld) -> None:
    deploy = dw.request("production").json()["id"]
    with dw.client("dave") as http:
        pending = http.get("/v1/deploys", params={"state": "pending"}).json()["deploys"]
    mine = {v["id"]: v["you"] for v in pending}
    assert mine[deploy] == {"may_approve": True, "why": "", "may_reject": True, "may_cancel": False}
    with dw.client("alice") as http:
        view = http.get(f"/v1/deploys/{deploy}").json()
    assert view["you"]["may_approve"] is False
    assert view["you"]["why"].startswith("alice wrote commit")
    assert (view["you"]["may_reject"], view["you"]["may_cancel"]) == (False, False)
    with dw.client("ci") as http:
        you = http.get(f"/v1/deploys/{deploy}").json()["you"]
    assert you == {
        "may_approve": False,
        "why": "ci is a service",
        "may_reject": False,
        "may_cancel": True,
    }


@pytest.mark.parametrize(
    ("content", "headers", "status"),
    [
        (b"not json", {"content-type": "application/json"}, 422),
        (b'{"environment": "production", "commit": "', {"content-type": "application/json"}, 422),
        (b"[1, 2, 3]", {"content-type": "application/json"}, 422),
        (b'{"environment": 5, "commit": "a", "artifact": "b"}', {}, 422),
        (b'{"environment": "production"}', {}, 422),
        (b"x" * (2 << 20), {"content-type": "application/json"}, 413),
    ],
    ids=["not-json", "truncated", "list", "wrong-type", "missing", "huge"],
)
def test_bad_bodies_change_nothing(
    dw: DeployWorld, content: bytes, headers: dict[str, str], status: int
) -> None:
    before = _snapshot(dw)
    with dw.client("ci") as http:
        answer = http.post("/v1/deploys", content=content, headers=headers)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]
    assert _snapshot(dw) == before


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        (
            {"requester": "dave"},
            422,
            "requester: Extra inputs",
        ),  # the requester is the caller, never the body
        ({"artifact": "sha256:abc"}, 400, "artifact"),
        ({"commit": "not-hex"}, 400, "commit"),
        ({"commit": "0" * 40}, 400, "unknown commit"),
        ({"environment": "../etc"}, 400, "environment"),
        ({"break_glass": "  "}, 400, "break-glass needs a reason"),
    ],
)
def test_wrong_fields_change_nothing(
    dw: DeployWorld, change: dict[str, str], status: int, message: str
) -> None:
    before = _snapshot(dw)
    body = {"environment": "production", "commit": dw.z, "artifact": ARTIFACT, **change}
    with dw.client("ci") as http:
        answer = http.post("/v1/deploys", json=body)
    assert answer.status_code == status, answer.text
    assert message in answer.json()["error"]
    assert _snapshot(dw) == before


def test_bad_ids_and_reject_bodies(dw: DeployWorld) -> None:
    with dw.client("dave") as http:
        assert http.get("/v1/deploys/dffffffffffff").status_code == 404
        assert http.get("/v1/deploys/' OR 1=1 --").status_code == 404
        assert http.post("/v1/deploys/dffffffffffff/approve").status_code == 404
        assert http.get("/v1/deploys", params={"state": "bogus"}).status_code == 400
    deploy = dw.request("production").json()["id"]
    before = _snapshot(dw)
    with dw.client("dave") as http:
        assert http.post(f"/v1/deploys/{deploy}/reject", json={}).status_code == 422
        assert http.post(f"/v1/deploys/{deploy}/reject", content=b"{").status_code == 422
        long = http.post(f"/v1/deploys/{deploy}/reject", json={"reason": "x" * 2000})
        assert long.status_code == 422
    assert _snapshot(dw) == before


# -- break-glass --------------------------------------------------------------------------------


def test_break_glass_is_marked_and_open_until_someone_else_reviews_it(
    dw: DeployWorld, keys: Keys
) -> None:
    refused = dw.request("frozen", "ci", break_glass="prod down")
    assert refused.json()["state"] == "denied"  # a service never breaks glass
    assert "BREAK_GLASS_DENIED" in _codes(refused.json())
    frozen = dw.request("frozen", "dave").json()
    assert frozen["state"] == "denied"  # the freeze holds without break-glass
    assert "FREEZE_WINDOW" in _codes(frozen)
    glass = dw.request("frozen", "dave", break_glass="prod down, INC-42").json()
    assert glass["state"] == "authorized", glass
    assert glass["break_glass"] == "prod down, INC-42"
    assert glass["decision"]["break_glass"] is True
    assert "BREAK_GLASS" in _codes(glass)
    with dw.client("erin") as http:
        listed = http.get("/v1/break-glass").json()
    open_ones = [e for e in listed["exceptions"] if not e["reviewed"]]
    assert [e["environment"] for e in open_ones] == ["frozen"]
    entry = open_ones[0]["entry"]
    assert open_ones[0]["actor"] == "dave"
    assert _cli_break_glass_list(dw) == 1  # the existing command sees it, open
    assert dw.twokey("break-glass", "list", "--gateway", dw.gateway.url, who="erin").returncode == 1
    own = _review(dw, keys, entry, "dave")
    assert own.status_code == 403
    assert "broke the glass" in own.json()["error"]
    forged = _review(dw, keys, entry, "carol", caller="erin")  # carol's review, sent by erin
    assert forged.status_code == 403
    own_cli = _cli_review(dw, keys, entry, "dave")
    assert own_cli.returncode == 1, own_cli.stderr
    assert "review refused" in own_cli.stdout
    assert "broke the glass" in own_cli.stdout
    done = _cli_review(dw, keys, entry, "carol")  # signed here, checked and appended there
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"reviewed the break-glass of ledger entry {entry} by dave" in done.stdout
    assert _cli_break_glass_list(dw) == 0
    listed_after = dw.twokey("break-glass", "list", "--gateway", dw.gateway.url, who="erin")
    assert listed_after.returncode == 0, listed_after.stdout + listed_after.stderr
    assert "0 open" in listed_after.stdout
    assert _review(dw, keys, 0, "carol").status_code == 404  # entry 0 is no break-glass
    nothing = _cli_review(dw, keys, 0, "carol")
    assert nothing.returncode == 2
    assert "no break-glass at entry 0" in nothing.stderr


def _review(
    dw: DeployWorld, keys: Keys, entry: int, reviewer: str, caller: str = ""
) -> httpx.Response:
    import hashlib  # noqa: PLC0415
    from datetime import UTC, datetime  # noqa: PLC0415

    from twokey.evidence import sign_break_glass_review  # noqa: PLC0415

    with open_ledger(_ledger_url(dw)) as ledger:
        data = ledger.entry(entry)
    envelope = sign_break_glass_review(
        keys.signers[reviewer],
        entry=entry,
        entry_sha256=hashlib.sha256(data).hexdigest(),
        verdict="justified",
        when=datetime.now(UTC),
        comment="checked INC-42",
    )
    with dw.client(caller or reviewer) as http:
        return http.post(f"/v1/break-glass/{entry}/review", json={"envelope": envelope.decode()})


def _cli_review(dw: DeployWorld, keys: Keys, entry: int, who: str) -> Any:
    """``twokey break-glass review ENTRY --gateway URL --ssh-key FILE`` as ``who``."""
    from cryptography.hazmat.primitives.serialization import (  # noqa: PLC0415
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    key = dw.root / f"{who}.key"
    if not key.exists():
        pem = keys.signers[who].key.private_bytes(
            Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption()
        )
        key.write_bytes(pem)
        key.chmod(0o600)
    argv = ["break-glass", "review", str(entry), "--gateway", dw.gateway.url]
    argv += ["--ssh-key", str(key), "--comment", "checked INC-42"]
    return dw.twokey(*argv, who=who)


def _cli_break_glass_list(dw: DeployWorld) -> int:
    policy = dw.root / "policy.yml"
    policy.write_text(dw.world.origin.git("show", "main:.twokey/policy.yml") + "\n")
    done = dw.twokey("break-glass", "list", "--ledger", _ledger_url(dw), "--policy", str(policy))
    assert done.returncode in (0, 1), done.stderr
    return done.returncode


# -- the CLI over the API -----------------------------------------------------------------------


def test_the_cli_requests_waits_is_refused_and_approves(dw: DeployWorld) -> None:
    import json  # noqa: PLC0415
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415
    import time  # noqa: PLC0415

    out = dw.root / "cli.auth"
    argv = [sys.executable, "-m", "twokey", "deploy", "request", "--environment", "e2"]
    argv += ["--commit", dw.z, "--artifact", ARTIFACT, "--wait", "60"]
    argv += ["--authorization-out", str(out), "--format", "json"]
    waiting = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dw.env("ci"),
    )
    try:
        deploy = _pending_id(dw, "e2", time.monotonic() + 30)
        alice = dw.twokey("deploy", "approve", deploy, who="alice")
        assert alice.returncode == 1, alice.stderr
        assert "refused: alice wrote commit" in alice.stdout
        status = dw.twokey("deploy", "status", deploy, who="alice")
        assert status.returncode == 1  # pending: not authorized
        assert "you may not approve it: alice wrote commit" in status.stdout
        assert "INSUFFICIENT_DEPLOY_APPROVALS" in status.stdout
        dave = dw.twokey("deploy", "approve", deploy, who="dave")
        assert dave.returncode == 0, dave.stdout + dave.stderr
        assert f"deploy {deploy}: AUTHORIZED" in dave.stdout
        stdout, stderr = waiting.communicate(timeout=60)
    finally:
        if waiting.poll() is None:
            waiting.kill()
    assert waiting.returncode == 0, stderr
    assert json.loads(stdout)["state"] == "authorized"
    assert out.read_text().startswith("twokey deploy authorization v1\n")
    nobody = dw.twokey("deploy", "approve", deploy)
    assert nobody.returncode == 2
    assert "401" in nobody.stderr
    listed = dw.twokey("deploy", "status", "--state", "authorized", who="ci")
    assert listed.returncode == 0
    assert deploy in listed.stdout


def _pending_id(dw: DeployWorld, environment: str, deadline: float) -> str:
    import time  # noqa: PLC0415

    with dw.client("erin") as http:
        while time.monotonic() < deadline:
            views = http.get("/v1/deploys", params={"state": "pending"}).json()["deploys"]
            mine = [v["id"] for v in views if v["environment"] == environment]
            if mine:
                return str(mine[0])
            time.sleep(0.1)
    raise AssertionError("the CLI's request never arrived")
