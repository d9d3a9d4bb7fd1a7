"""Gateway deploy benchmark: request and approve latency over real HTTP, SQLite and PostgreSQL.

A real ``twokey serve`` (one process) over the deploy tests' world (origin with the policy,
commits P, X, Y, Z, Q and CI's provenance): CI requests a deploy of Z (each one judged by the
deploy door: git reads, the release since the environment's last deploy in the ledger, the
engine, two ledger appends), then dave approves it (re-judged with the approval, three
appends, an authorization signed). Measured in the same run against ``GET /healthz`` of the
same server (the framework floor), one request at a time from one client.

    .venv/bin/python bench/bench_gateway_deploys.py              # 200 of each, both engines
    .venv/bin/python bench/bench_gateway_deploys.py --quick      # smoke run
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests' world builder

from tests.integration.doors._deploys import ARTIFACT  # noqa: E402
from tests.integration.gateway._deploy_world import (  # noqa: E402
    DeployWorld,
    make_deploy_world,
    postgres_schema,
)
from tests.integration.git._harness import Keys  # noqa: E402


def _timed(call: Callable[[], object]) -> float:
    began = time.perf_counter()
    call()
    return (time.perf_counter() - began) * 1000


def _stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


def _measure(dw: DeployWorld, count: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"healthz": [], "request": [], "approve": []}
    body = {"environment": "e1", "commit": dw.z, "artifact": ARTIFACT}
    with dw.client("ci") as ci, dw.client("dave") as dave:
        for _ in range(5):  # warm up both paths
            ci.get("/healthz")
        for _ in range(count):
            out["healthz"].append(_timed(lambda: ci.get("/healthz")))
            began = time.perf_counter()
            reply = ci.post("/v1/deploys", json=body)
            out["request"].append((time.perf_counter() - began) * 1000)
            answer = reply.json()
            assert (reply.status_code, answer["state"]) == (201, "pending"), reply.text
            began = time.perf_counter()
            reply = dave.post(f"/v1/deploys/{answer['id']}/approve")
            out["approve"].append((time.perf_counter() - began) * 1000)
            assert reply.json()["state"] == "authorized", reply.text
    return out


def _run(engine: str, count: int, keys: Keys) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="twokey-bench-gw-") as tmp:
        schemas = postgres_schema() if engine == "postgres" else None
        database = next(schemas) if schemas is not None else ""
        dw = make_deploy_world(Path(tmp), keys, database)
        try:
            return _measure(dw, count)
        finally:
            dw.gateway.stop()
            if schemas is not None:
                schemas.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 of each (smoke run)")
    parser.add_argument("--count", type=int, default=200, help="requests per path (default 200)")
    parser.add_argument(
        "--engine", choices=["sqlite", "postgres", "both"], default="both", help="database"
    )
    args = parser.parse_args()
    count = 10 if args.quick else args.count
    keys = Keys.generate()
    engines = ["sqlite", "postgres"] if args.engine == "both" else [args.engine]
    print(f"gateway deploys, {count} sequential requests each, one client, one server process")
    print(f"{'engine':<9} {'path':<30} {'median ms':>10} {'p99 ms':>8} {'x floor':>8}")
    for engine in engines:
        samples = _run(engine, count, keys)
        floor = _stats(samples["healthz"])[0]
        labels = {
            "healthz": "GET /healthz (floor)",
            "request": "POST /v1/deploys",
            "approve": "POST /v1/deploys/{id}/approve",
        }
        for key, label in labels.items():
            median, p99 = _stats(samples[key])
            print(f"{engine:<9} {label:<30} {median:>10.1f} {p99:>8.1f} {median / floor:>8.1f}")
        first, last = samples["request"][:10], samples["request"][-10:]
        print(
            f"{engine:<9} {'request: first 10 / last 10':<30} "
            f"{statistics.median(first):>10.1f} {statistics.median(last):>8.1f}"
        )


if __name__ == "__main__":
    main()
