"""Tokens over real HTTP: each person sees and revokes only their own (no admin exemption);
a person creates a token for a service the policy lists, and may revoke it; all recorded."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.integration.gateway._signin import Served, access_records, served, token
from tests.integration.git._harness import Keys
from twokey.cli import main

__all__ = ["served"]


def _ids(http: httpx.Client) -> list[str]:
    answer = http.get("/v1/tokens")
    assert answer.status_code == 200, answer.text
    return [t["id"] for t in answer.json()["tokens"]]


def test_a_person_lists_and_revokes_only_their_own(served: Served, keys: Keys) -> None:
    bob = served.gateway.client(token(served.gateway.client(), keys, "bob"))
    erin = served.gateway.client(token(served.gateway.client(), keys, "erin"))  # an admin
    with bob, erin:
        (bobs,) = _ids(bob)[:1]
        assert bobs not in _ids(erin)
        refused = erin.post(f"/v1/tokens/{bobs}/revoke")
        assert refused.status_code == 404
        assert refused.json()["error"] == f"no token of yours has the id {bobs}"
        assert bob.get("/v1/me").status_code == 200
        assert erin.post("/v1/tokens/xyz/revoke").status_code == 400
        done = bob.post(f"/v1/tokens/{bobs}/revoke")
        assert done.status_code == 200, done.text
        assert bob.get("/v1/me").status_code == 401
    revoked = [r for r in access_records(f"sqlite://{served.db}") if r.action == "token-revoke"]
    assert [(r.person, r.token) for r in revoked] == [("bob", bobs)]


def test_service_tokens_are_for_listed_services_and_revocable_by_their_creator(
    served: Served, keys: Keys
) -> None:
    carol = served.gateway.client(token(served.gateway.client(), keys, "carol"))
    dave = served.gateway.client(token(served.gateway.client(), keys, "dave"))
    with carol, dave:
        for name, reason in (("bob", "not a service"), ("nobody", "not a service")):
            refused = carol.post("/v1/tokens", json={"service": name})
            assert refused.status_code == 400
            assert reason in refused.json()["error"]
        assert carol.post("/v1/tokens", json={"service": "ci", "days": 0}).status_code == 400
        made = carol.post("/v1/tokens", json={"service": "ci", "name": "deploy job"}).json()
        assert made["service"] == "ci"
        assert made["id"] in _ids(carol)
        assert made["id"] not in _ids(dave)
        with served.gateway.client(made["token"]) as ci:
            assert ci.get("/v1/me").json()["kind"] == "service"
            assert ci.get("/v1/tokens").status_code == 403
        assert dave.post(f"/v1/tokens/{made['id']}/revoke").status_code == 404
        assert carol.post(f"/v1/tokens/{made['id']}/revoke").status_code == 200
        with served.gateway.client(made["token"]) as ci:
            assert ci.get("/v1/me").status_code == 401
    created = [r for r in access_records(f"sqlite://{served.db}") if r.action == "token-create"]
    assert [(r.person, r.token, r.detail) for r in created] == [("carol", made["id"], "service ci")]


def test_the_tokens_command(
    served: Served,
    keys: Keys,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("TWOKEY_GATEWAY", served.gateway.url)
    monkeypatch.setenv("TWOKEY_TOKEN", token(served.gateway.client(), keys, "frank"))
    assert main(["tokens", "create-service", "ci", "--days", "7", "--format", "json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["token"].startswith("tk_")
    assert main(["tokens", "list"]) == 0
    listing = capsys.readouterr().out
    assert f"{made['id']}  service ci" in listing
    assert main(["tokens", "revoke", made["id"]]) == 0
    assert f"revoked {made['id']}" in capsys.readouterr().out
    assert main(["tokens", "create-service", "alice"]) == 2
    assert "not a service of the trusted policy" in capsys.readouterr().err
    assert main(["tokens", "revoke", "0123456789ab"]) == 2
    assert "no token of yours" in capsys.readouterr().err
