"""Prometheus ``/metrics`` of a gateway with two worker processes (prometheus-client's
multiprocess mode): requests by route template and status, latency histograms, decisions by
door and outcome and finding code, summed over both processes."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.doors._deploys import make_world
from tests.integration.gateway._api import MAIN, database_of, service_token
from tests.integration.git._harness import Keys
from tests.support.gateway import start_gateway


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_two_workers_are_summed(tmp_path: Path, keys: Keys) -> None:
    world = make_world(tmp_path / "world", keys)
    world.origin.git("config", "twokey.repository", "shop")
    gateway = start_gateway(tmp_path / "data", "--workers", "2", repo=world.origin.path)
    try:
        token = service_token(database_of(gateway.data, ""))
        body = {"ref": MAIN, "old": world.commits["P"], "new": world.commits["Y"]}
        for _ in range(20):  # a new connection each time: both workers get some
            answer = httpx.post(
                f"{gateway.url}/v1/checks",
                json=body,
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            assert answer.status_code == 200
            assert httpx.get(f"{gateway.url}/ledger/v1/tile/0/x{_}", timeout=30).status_code == 404
        text = httpx.get(f"{gateway.url}/metrics", timeout=30).text
        dirs = list((tmp_path / "data").glob("metrics-*"))
        assert len(dirs) == 1
        pids = {p.stem.rsplit("_", 1)[-1] for p in dirs[0].glob("counter_*.db")}
    finally:
        gateway.stop()
    found = samples(text)
    requests = frozenset({("method", "POST"), ("route", "/v1/checks"), ("status", "200")})
    assert found[("twokey_http_requests_total", requests)] == 20
    tiles = frozenset({("method", "GET"), ("route", "/ledger/v1/{path:path}"), ("status", "404")})
    assert found[("twokey_http_requests_total", tiles)] == 20  # the template, not 20 paths
    latency = frozenset({("method", "POST"), ("route", "/v1/checks"), ("le", "+Inf")})
    assert found[("twokey_http_request_seconds_bucket", latency)] == 20
    deny = frozenset({("door", "gateway-check"), ("outcome", "deny")})
    assert found[("twokey_decisions_total", deny)] == 20
    code = frozenset({("door", "gateway-check"), ("code", "INSUFFICIENT_APPROVALS")})
    assert found[("twokey_findings_total", code)] == 20
    assert len(pids) == 2, pids  # both processes counted, and /metrics summed them
    assert not dirs[0].exists()  # the directory goes when the gateway stops
