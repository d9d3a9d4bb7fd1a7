"""Forge webhook benchmark: deliveries verified, de-duplicated and recorded per second.

Issue 12 asks for at least 500 webhook deliveries/s verified, de-duplicated and recorded with
SQLite on this machine, the forge API calls made off the request path. Measured in one run,
alternating rounds so load hits all alike:

* **floor**: what any receiver must do, raw: HMAC-SHA256 of the body and ``json.loads``;
* **receiver, ledger held open**: ``Receiver.receive`` (verify, parse the typed event, insert
  the delivery id, append a ``forge`` entry durably: one SQLite commit each, WAL,
  ``synchronous=FULL``) with the ledger opened once, as a gateway process holds it;
* **receiver, 16 threads, group commit**: the same from 16 threads at once (a gateway's
  worker threads), the ledger appended by ``BatchedLedger`` (one durable transaction for
  every delivery queued, each caller released once its entry is committed).

Bodies are real GitHub payloads (``push``, ``pull_request_review``) with a fresh delivery id
each; no handler (recorded only), so no forge API call is on the path.

``--http`` measures the same over real HTTP instead: ``twokey serve`` (SQLite, the forge
routes with their handler: reviews stored, no mirror so nothing judged, nothing called) takes
``POST /v1/forge/github`` from ``wrk`` (a second process; a Lua script gives each request a
fresh ``X-GitHub-Delivery``; the bodies are signed once, the signature covers the body only).
The rate counted is the ledger's growth over the run (every 202 recorded, once), not what wrk
says; the floor is ``GET /healthz`` of the same server, in the same rounds.

    .venv/bin/python bench/bench_forge_webhooks.py              # 3 rounds of 1,000 each
    .venv/bin/python bench/bench_forge_webhooks.py --quick      # smoke run
    .venv/bin/python bench/bench_forge_webhooks.py --http --rounds 3 --seconds 10 --workers 1
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from twokey.forge import BatchedLedger, ForgeStore, Receiver, WebhookSecrets
from twokey.ledger import Entry, open_ledger

PAYLOADS = (
    Path(os.environ.get("TWOKEY_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
    / "forge-payloads/github"
)
SECRET = "bench-secret"
NOW = datetime(2026, 12, 4, 18, tzinfo=UTC)
Delivery = tuple[str, dict[str, str], bytes]


def _deliveries(count: int, round_: int) -> list[Delivery]:
    bodies = [
        ("push", (PAYLOADS / "push/payload.json").read_bytes()),
        (
            "pull_request_review",
            (PAYLOADS / "pull_request_review/submitted.payload.json").read_bytes(),
        ),
    ]
    out = []
    for i in range(count):
        event, body = bodies[i % 2]
        mac = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": f"r{round_}-d{i}",
            "X-Hub-Signature-256": f"sha256={mac}",
        }
        out.append((event, headers, body))
    return out


def _floor(deliveries: Sequence[Delivery]) -> float:
    began = time.perf_counter()
    for _, headers, body in deliveries:
        mac = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Hub-Signature-256"][7:], mac)
        json.loads(body)
    return len(deliveries) / (time.perf_counter() - began)


def _receiver(url: str, append: Callable[[Sequence[Entry]], object]) -> tuple[Receiver, ForgeStore]:
    store = ForgeStore(url)
    return Receiver(WebhookSecrets(github=SECRET), store, append), store


def _run(rx: Receiver, deliveries: Sequence[Delivery], threads: int = 1) -> float:
    def one(delivery: Delivery) -> None:
        receipt = rx.receive("github", delivery[1], delivery[2], NOW)
        assert receipt.status == 202, receipt.reason

    began = time.perf_counter()
    if threads == 1:  # in this thread: the held ledger's connection belongs to it
        for delivery in deliveries:
            one(delivery)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, deliveries))
    rate = len(deliveries) / (time.perf_counter() - began)
    again = rx.receive("github", deliveries[0][1], deliveries[0][2], NOW)
    assert again.status == 409  # de-duplicated
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--http", action="store_true", help="over HTTP to twokey serve (wrk)")
    parser.add_argument("--seconds", type=int, default=10, help="--http: seconds per round")
    parser.add_argument("--connections", type=int, default=32, help="--http: wrk connections")
    parser.add_argument("--workers", type=int, default=1, help="--http: gateway processes")
    args = parser.parse_args()
    if args.http:
        _main_http(args)
        return
    count, rounds = (100, 1) if args.quick else (args.deliveries, args.rounds)
    rates: dict[str, list[float]] = {"floor": [], "sequential": [], "16 threads": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            deliveries = _deliveries(count, r)
            rates["floor"].append(_floor(deliveries))
            url = f"sqlite://{Path(tmp) / f'held-{r}.db'}"
            with open_ledger(url) as ledger:
                rx, store = _receiver(url, ledger.append)
                rates["sequential"].append(_run(rx, deliveries))
                store.close()
            url = f"sqlite://{Path(tmp) / f'batched-{r}.db'}"
            with BatchedLedger(url) as batched:
                rx, store = _receiver(url, batched.append)
                rates["16 threads"].append(_run(rx, deliveries, threads=16))
                store.close()
            with open_ledger(url) as ledger:
                assert ledger.size() == count  # every delivery recorded, once
    load = os.getloadavg()[0]
    print(f"{count} deliveries x {rounds} rounds, load average {load:.1f}")
    floor = statistics.median(rates["floor"])
    for name, values in rates.items():
        med = statistics.median(values)
        print(
            f"{name:>13}: {med:9,.0f}/s median ({', '.join(f'{v:,.0f}' for v in values)}); "
            f"floor/this {floor / med:.1f}x"
        )


# -- over HTTP: twokey serve and wrk ---------------------------------------------------------

_LUA = """
local paths = {%(paths)s}
local events = {%(events)s}
local signatures = {%(signatures)s}
local bodies = {}
for i, path in ipairs(paths) do
  local f = assert(io.open(path, "rb")); bodies[i] = f:read("*a"); f:close()
end
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
local counter = 0
function request()
  counter = counter + 1
  local i = counter %% 2 + 1
  return wrk.format("POST", "/v1/forge/github", {
    ["Content-Type"] = "application/json",
    ["X-GitHub-Event"] = events[i],
    ["X-Hub-Signature-256"] = signatures[i],
    ["X-GitHub-Delivery"] = "%(prefix)s-" .. tid .. "-" .. counter,
  }, bodies[i])
end
"""


def _lua(prefix: str) -> str:
    files = [
        PAYLOADS / "push/payload.json",
        PAYLOADS / "pull_request_review/submitted.payload.json",
    ]
    macs = [hmac.new(SECRET.encode(), f.read_bytes(), hashlib.sha256).hexdigest() for f in files]
    return _LUA % {
        "paths": ", ".join(f'"{f}"' for f in files),
        "events": '"push", "pull_request_review"',
        "signatures": ", ".join(f'"sha256={m}"' for m in macs),
        "prefix": prefix,
    }


def _wrk(url: str, seconds: int, connections: int, script: Path | None) -> dict[str, float]:
    """Run wrk; its requests/s, p50/p99 latency (ms) and non-2xx count."""
    import re  # noqa: PLC0415
    import subprocess  # noqa: PLC0415

    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script is not None:
        argv[1:1] = ["-s", str(script)]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        found = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if found is None:
            return float("nan")
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found[2]]
        return float(found[1]) * scale

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return {
        "rate": float(rate[1]) if rate else 0.0,
        "p50": ms("50"),
        "p99": ms("99"),
        "errors": float(errors[1]) if errors else 0.0,
    }


def _serve(data: Path, workers: int) -> tuple[object, str]:
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.support.gateway import free_port  # noqa: PLC0415

    port = free_port()
    env = {**os.environ, "TWOKEY_GITHUB_WEBHOOK_SECRET": SECRET}
    argv = [sys.executable, "-m", "twokey", "serve", "--data", str(data), "--port", str(port)]
    argv += ["--workers", str(workers)]
    process = subprocess.Popen(argv, env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(400):
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):
                return process, url
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("twokey serve did not start")


def _main_http(args: argparse.Namespace) -> None:
    """Rounds of: the floor (GET /healthz), deliveries over HTTP, the in-process receiver."""
    seconds, rounds = (3, 1) if args.quick else (args.seconds, args.rounds)
    results: dict[str, list[dict[str, float]]] = {"floor": [], "http": []}
    in_process: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        process, url = _serve(data, args.workers)
        ledger_url = f"sqlite://{data / 'gateway.db'}"
        try:
            for r in range(rounds):
                results["floor"].append(_wrk(url + "/healthz", seconds, args.connections, None))
                script = Path(tmp) / f"round-{r}.lua"
                script.write_text(_lua(f"r{r}"))
                with open_ledger(ledger_url) as ledger:
                    before = ledger.size()
                began = time.perf_counter()
                run = _wrk(url + "/v1/forge/github", seconds, args.connections, script)
                took = time.perf_counter() - began
                with open_ledger(ledger_url) as ledger:
                    recorded = ledger.size() - before
                run["recorded"] = recorded / took
                results["http"].append(run)
                in_process.append(_in_process_round(Path(tmp), args.deliveries, r))
            _replay_refused(url)
        finally:
            process.terminate()  # type: ignore[attr-defined]
            process.wait()  # type: ignore[attr-defined]
    _report_http(results, in_process, args, seconds)


def _in_process_round(tmp: Path, count: int, round_: int) -> float:
    url = f"sqlite://{tmp / f'in-process-{round_}.db'}"
    with BatchedLedger(url) as batched:
        rx, store = _receiver(url, batched.append)
        rate = _run(rx, _deliveries(count, round_ + 100), threads=16)
        store.close()
    return rate


def _replay_refused(url: str) -> None:
    """A delivery sent twice: the second is refused (409): de-duplicated over HTTP too."""
    import urllib.error  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    ((_, headers, body),) = _deliveries(1, 999)
    statuses = []
    for _ in range(2):
        request = urllib.request.Request(url + "/v1/forge/github", body, headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                statuses.append(answer.status)
        except urllib.error.HTTPError as exc:
            statuses.append(exc.code)
    assert statuses == [202, 409], statuses


def _report_http(
    results: dict[str, list[dict[str, float]]],
    in_process: list[float],
    args: argparse.Namespace,
    seconds: int,
) -> None:
    load = os.getloadavg()[0]
    print(
        f"over HTTP: {len(in_process)} rounds of {seconds} s, wrk -t2 -c{args.connections}, "
        f"{args.workers} gateway process(es), load average {load:.1f}"
    )
    for name, runs in results.items():
        rates = [r["rate"] for r in runs]
        line = f"{name:>7}: {statistics.median(rates):8,.0f} req/s median"
        line += f" ({', '.join(f'{v:,.0f}' for v in rates)});"
        line += f" p50 {statistics.median(r['p50'] for r in runs):.1f} ms,"
        line += f" p99 {statistics.median(r['p99'] for r in runs):.1f} ms;"
        line += f" non-2xx {int(sum(r['errors'] for r in runs))}"
        if name == "http":
            recorded = [r["recorded"] for r in runs]
            line += f"; recorded in the ledger {statistics.median(recorded):,.0f}/s"
            line += f" ({', '.join(f'{v:,.0f}' for v in recorded)})"
        print(line)
    print(
        f"in-process, 16 threads, BatchedLedger: {statistics.median(in_process):,.0f}/s median "
        f"({', '.join(f'{v:,.0f}' for v in in_process)})"
    )


if __name__ == "__main__":
    main()
