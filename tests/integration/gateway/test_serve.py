"""``twokey serve`` over real HTTP: health, readiness, OpenAPI, errors, credentials, limits."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from tests.integration.gateway.conftest import GatewayWorld
from tests.support.gateway import start_gateway


def test_health_readiness_and_openapi(gateway_world: GatewayWorld) -> None:
    with gateway_world.gateway.client() as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        ready = http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ready"}
        spec = http.get("/openapi.json").json()
        assert spec["info"]["title"] == "twokey gateway"
        assert "/readyz" in spec["paths"]


def test_the_signing_key_is_created_private(gateway_world: GatewayWorld) -> None:
    key = gateway_world.gateway.data / "ledger.key"
    assert key.read_text().startswith("PRIVATE+KEY+")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_readyz_names_a_repository_without_policy(tmp_path: Path) -> None:
    empty = tmp_path / "empty.git"
    empty.mkdir()
    subprocess.run(["git", "init", "-q", "--bare", str(empty)], check=True)
    gateway = start_gateway(tmp_path / "data", repo=empty)
    try:
        with gateway.client() as http:
            ready = http.get("/readyz")
        assert ready.status_code == 503
        assert "policy" in ready.json()["problems"]
    finally:
        gateway.stop()


def test_a_body_over_the_limit_is_refused_before_it_is_read(gateway_world: GatewayWorld) -> None:
    with gateway_world.gateway.client() as http:
        response = http.post("/healthz", content=b"x" * (2 << 20))
    assert response.status_code == 413
    assert "too large" in response.json()["error"]


def test_an_unknown_token_is_not_a_caller(gateway_world: GatewayWorld) -> None:
    with gateway_world.gateway.client(token="tk_forged") as http:
        response = http.get("/no/such/route")
    assert response.status_code == 404
    assert "error" in response.json()
