"""Benchmark: ``POST /v1/checks`` of a running gateway, against ``/healthz`` of the same server.

Run: ``.venv/bin/python bench/bench_gateway.py [--requests 30000] [--rate 300] [--quick]``

Builds a repository (a history of ``--history`` commits by fast-import, the policy on ``main``,
a change of ``--change`` commits by three authors, approvals and checks for it plus unrelated
evidence refs), starts ``twokey serve`` on it, issues a service token, then for each setup
(SQLite; PostgreSQL; PostgreSQL with ``--workers 4``):

* **fixed rate** (open loop, from this process: a second process to the server): ``--rate``
  requests/s of ``POST /v1/checks`` for ``--requests`` requests, then the same of ``/healthz``;
  latency is measured from when each request was due (no coordinated omission); every answer
  must be 200 with the expected verdict;
* **saturation**: ``wrk`` (Debian package; a Lua script POSTs the body) for ``--seconds`` on
  each endpoint: requests/s and latency percentiles, errors.

Each result is reported with its ratio to ``/healthz`` measured in the same run (the framework's
floor). Issue 11 asks for p99 < 25 ms at 300 requests/s with SQLite and zero errors over at
least 30,000 requests; see bench/gateway.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519

from _bench_env import ENV  # the bench directory: scripts run from it
from twokey.evidence import Ed25519Signer, GitEvidenceStore, sign_approval, sign_check
from twokey.forge import ForgeStore

POSTGRES_URL = os.environ.get("TWOKEY_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test")
PEOPLE = ("alice", "bob", "carol", "dave", "erin")
POLICY = """\
version: 1
people:
{people}
services:
  ci: {{name: CI, emails: [ci@example.com], keys: ["{ci}"]}}
groups:
  developers: [alice, bob, carol]
  reviewers: [dave, erin]
branches:
  main:
    approvals: 1
    approvers: [reviewers]
    checks: {{require: [tests], signers: [ci]}}
policy_changes: {{approvals: 2, approvers: [reviewers]}}
"""


def git(*args: str, cwd: Path, stdin: bytes | None = None) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, input=stdin, capture_output=True, env=ENV, check=True
    )
    return done.stdout.decode().strip()


def _signers() -> dict[str, Ed25519Signer]:
    return {n: Ed25519Signer(ed25519.Ed25519PrivateKey.generate()) for n in (*PEOPLE, "ci")}


def _fast_import(count: int) -> bytes:
    """``count`` commits on main, each changing one of 200 files (a plausible history)."""
    out = []
    for i in range(count):
        author = PEOPLE[i % 3]
        data = f"line {i}\n".encode() * 20
        out.append(
            f"commit refs/heads/main\nmark :{i + 1}\n"
            f"author {author} <{author}@example.com> {1_700_000_000 + i} +0000\n"
            f"committer {author} <{author}@example.com> {1_700_000_000 + i} +0000\n"
            f"data {len(f'change {i}')}\nchange {i}\n"
            + (f"from :{i}\n" if i else "")
            + f"M 100644 inline src/m{i % 200}.py\ndata {len(data)}\n"
        )
        out.append(data.decode() + "\n")
    return "".join(out).encode()


@dataclass
class Repo:
    """The origin, the change to check (``old`` -> ``new`` on main) and the signers."""

    origin: Path
    old: str
    new: str
    signers: dict[str, Ed25519Signer]


def build(root: Path, history: int, change: int, unrelated: int) -> Repo:
    """The origin: history, policy, the change on a branch, its evidence and unrelated refs."""
    signers = _signers()
    origin = root / "origin.git"
    git("init", "-q", "--bare", "-b", "main", str(origin), cwd=root)
    git("config", "twokey.repository", "shop", cwd=origin)
    if history:
        git("fast-import", "--quiet", cwd=origin, stdin=_fast_import(history))
    seed = root / "seed"
    git("clone", "-q", str(origin), str(seed), cwd=root)
    people = "\n".join(
        f"  {p}: {{name: {p.title()}, emails: [{p}@example.com], "
        f'keys: ["{signers[p].public_key}"]}}'
        for p in PEOPLE
    )
    (seed / ".twokey").mkdir(exist_ok=True)
    policy = POLICY.format(people=people, ci=signers["ci"].public_key)
    (seed / ".twokey" / "policy.yml").write_text(policy)
    git("add", "-A", cwd=seed)
    git(
        "-c",
        "user.name=erin",
        "-c",
        "user.email=erin@example.com",
        "commit",
        "-qm",
        "Policy",
        cwd=seed,
    )
    git("push", "-q", "origin", "main", cwd=seed)
    old = git("rev-parse", "HEAD", cwd=seed)
    for i in range(change):
        author = PEOPLE[i % 3]
        for j in range(5):
            path = seed / "src" / f"feature{i % 7}" / f"f{j}.py"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"# {author}\n" + f"value = {i * 5 + j}\n" * 30)
        git("add", "-A", cwd=seed)
        ident = ["-c", f"user.name={author}", "-c", f"user.email={author}@example.com"]
        git(*ident, "commit", "-qm", f"Feature step {i}", cwd=seed)
    new = git("rev-parse", "HEAD", cwd=seed)
    git("push", "-q", "origin", "HEAD:refs/heads/feature", cwd=seed)
    _evidence(origin, signers, old, new, unrelated)
    return Repo(origin, old, new, signers)


def _evidence(
    origin: Path, signers: dict[str, Ed25519Signer], old: str, new: str, unrelated: int
) -> None:
    store = GitEvidenceStore(origin)
    when = datetime.now(UTC)
    tree = git("rev-parse", f"{new}^{{tree}}", cwd=origin)
    approval = sign_approval(
        signers["dave"], repository="shop", ref="refs/heads/main", commit=new, tree=tree, when=when
    )
    store.put(approval, new)
    check = sign_check(
        signers["ci"], name="tests", repository="shop", subject=tree, passed=True, when=when
    )
    store.put(check, tree)
    commits = git("rev-list", f"--max-count={unrelated}", old, cwd=origin).split()
    for commit in commits:  # other changes' approvals: the evidence namespace of a live repo
        other = git("rev-parse", f"{commit}^{{tree}}", cwd=origin)
        envelope = sign_approval(
            signers["erin"],
            repository="shop",
            ref="refs/heads/main",
            commit=commit,
            tree=other,
            when=when,
        )
        store.put(envelope, commit)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    token: str


@contextmanager
def serve(root: Path, repo: Repo, database: str, workers: int) -> Iterator[Server]:
    """``twokey serve`` on a free port, and a service token in its database."""
    data = root / f"data-{uuid.uuid4().hex[:8]}"
    port = free_port()
    argv = [sys.executable, "-m", "twokey", "serve", "--data", str(data), "--port", str(port)]
    argv += ["--repo", str(repo.origin), "--workers", str(workers)]
    if database:
        argv += ["--database", database]
    log = root / f"serve-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, env=ENV)
    try:
        _wait(port, process, log)
        store = ForgeStore(database or f"sqlite://{data / 'gateway.db'}")
        from twokey.gateway._auth import Tokens  # noqa: PLC0415

        token = Tokens(store.db).issue(
            "service", "ci", "bench", datetime.now(UTC), 86400, credential="service:ci"
        )
        store.close()
        yield Server(f"http://127.0.0.1:{port}", port, process, token)
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"twokey serve exited:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if b" 200 " in sock.recv(200):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"twokey serve did not get ready:\n{log.read_text()}")


# -- the open-loop load generator ---------------------------------------------------------


@dataclass
class Load:
    """What a fixed-rate run measured (latencies in ms from when each request was due)."""

    latencies: list[float]
    errors: int
    seconds: float
    wrong: int  # 200s with an unexpected body (a check that did not allow)

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def request_bytes(method: str, path: str, body: bytes, token: str) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if token:
        head += f"Authorization: Bearer {token}\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


class _Conn(asyncio.Protocol):
    """One keep-alive connection: sends a request, parses the answer (status, Content-Length
    body), reports it to the generator. No task or stream objects per request."""

    def __init__(self, gen: _Generator) -> None:
        self.gen = gen
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.due = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, raw: bytes, due: float) -> None:
        self.due = due
        assert self.transport is not None
        self.transport.write(raw)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buffer[:end]
        found = re.search(rb"(?i)content-length: *(\d+)", head)
        size = int(found.group(1)) if found else 0
        if len(self.buffer) < end + 4 + size:
            return
        body = self.buffer[end + 4 : end + 4 + size]
        self.buffer = self.buffer[end + 4 + size :]
        self.gen.done(self, int(head[9:12]), body)

    def connection_lost(self, exc: Exception | None) -> None:
        self.gen.lost(self)


class _Generator:
    """Sends ``count`` requests at ``rate``/s over idle connections; a request that finds none
    idle waits for one, its latency still counted from when it was due."""

    def __init__(self, raw: bytes, count: int, rate: float, expect: bytes) -> None:
        self.raw, self.count, self.rate, self.expect = raw, count, rate, expect
        self.idle: list[_Conn] = []
        self.waiting: collections.deque[float] = collections.deque()
        self.latencies: list[float] = []
        self.errors = self.wrong = self.sent = 0
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def due(self, when: float) -> None:
        if self.idle:
            self.idle.pop().send(self.raw, when)
        else:
            self.waiting.append(when)

    def done(self, conn: _Conn, status: int, body: bytes) -> None:
        self.latencies.append((time.perf_counter() - conn.due) * 1000)
        if status != 200:
            self.errors += 1
        elif self.expect not in body:
            self.wrong += 1
        self._next(conn)

    def lost(self, conn: _Conn) -> None:
        if conn in self.idle:
            self.idle.remove(conn)
        elif len(self.latencies) < self.count:
            self.errors += 1
            self.latencies.append((time.perf_counter() - conn.due) * 1000)
        self._check_done()

    def _next(self, conn: _Conn) -> None:
        if self.waiting:
            conn.send(self.raw, self.waiting.popleft())
        else:
            self.idle.append(conn)
        self._check_done()

    def _check_done(self) -> None:
        if len(self.latencies) >= self.count and not self.finished.done():
            self.finished.set_result(None)


async def _fixed_rate(port: int, raw: bytes, count: int, rate: float, expect: bytes) -> Load:
    loop = asyncio.get_running_loop()
    gen = _Generator(raw, count, rate, expect)
    for _ in range(48):
        _, conn = await loop.create_connection(lambda: _Conn(gen), "127.0.0.1", port)
        gen.idle.append(conn)
    start = time.perf_counter() + 0.05
    for i in range(count):  # open loop: each request is sent when it is due, answered or not
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0.0005:
            await asyncio.sleep(delay)
        gen.due(due)
    await gen.finished
    elapsed = time.perf_counter() - start
    for conn in gen.idle:
        assert conn.transport is not None
        conn.transport.close()
    return Load(gen.latencies, gen.errors, elapsed, gen.wrong)


def fixed_rate(port: int, raw: bytes, count: int, rate: float, expect: bytes) -> Load:
    try:
        import uvloop  # noqa: PLC0415 - the cheaper loop when it is there (a lighter generator)
    except ImportError:
        return asyncio.run(_fixed_rate(port, raw, count, rate, expect))
    return uvloop.run(_fixed_rate(port, raw, count, rate, expect))


# -- saturation with wrk --------------------------------------------------------------------

WRK_LUA = """\
wrk.method = "{method}"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
{auth}
"""


@dataclass
class Saturation:
    rps: float
    p50: float
    p99: float
    requests: int
    errors: int


def _ms(out: str, label: str) -> float:
    """A latency percentile of wrk's ``--latency`` table in ms (nan when wrk printed none)."""
    found = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    if found is None:
        return float("nan")
    return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]


def wrk(url: str, method: str, body: bytes, token: str, seconds: int, root: Path) -> Saturation:
    script = root / f"wrk-{uuid.uuid4().hex[:6]}.lua"
    auth = f'wrk.headers["Authorization"] = "Bearer {token}"' if token else ""
    script.write_text(WRK_LUA.format(method=method, body=json.dumps(body.decode()), auth=auth))
    done = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    )
    out = done.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(map(int, sock.groups())) if sock else 0)
    return Saturation(rps, _ms(out, "50%"), _ms(out, "99%"), total, errors)


# -- the runs -------------------------------------------------------------------------------


@contextmanager
def pg_schema() -> Iterator[str]:
    import psycopg  # noqa: PLC0415

    schema = f"bench_gw_{uuid.uuid4().hex[:12]}"
    admin = psycopg.connect(POSTGRES_URL, autocommit=True)
    try:
        yield f"{POSTGRES_URL}?schema={schema}"
    finally:
        admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.close()


def _load_line(name: str, load: Load, floor: Load) -> str:
    p50, p99 = statistics.median(load.latencies), load.pct(99)
    f50, f99 = statistics.median(floor.latencies), floor.pct(99)
    rate = len(load.latencies) / load.seconds
    return (
        f"  {name}: {len(load.latencies)} requests at {rate:.0f}/s: p50 {p50:.1f} ms, "
        f"p99 {p99:.1f} ms, max {max(load.latencies):.1f} ms, errors {load.errors}, "
        f"unexpected verdicts {load.wrong} | /healthz p50 {f50:.2f} ms, p99 {f99:.2f} ms "
        f"-> p99 ratio {p99 / f99:.1f}x"
    )


def _saturation_line(name: str, check: Saturation, floor: Saturation) -> str:
    return (
        f"  {name}: {check.rps:.0f} checks/s (p50 {check.p50:.1f} ms, p99 {check.p99:.1f} ms, "
        f"{check.requests} requests, errors {check.errors}) | /healthz {floor.rps:.0f}/s "
        f"(errors {floor.errors}) -> {check.rps / floor.rps:.3f} of the floor"
    )


def run_setup(
    name: str, root: Path, repo: Repo, database: str, workers: int, args: argparse.Namespace
) -> None:
    print(f"{name}:", flush=True)
    body = json.dumps({"ref": "refs/heads/main", "old": repo.old, "new": repo.new}).encode()
    with serve(root, repo, database, workers) as server:
        check = request_bytes("POST", "/v1/checks", body, server.token)
        health = request_bytes("GET", "/healthz", b"", "")
        fixed_rate(server.port, check, min(300, args.requests), args.rate, b'"allow"')  # warm-up
        if not args.saturation_only:
            load = fixed_rate(server.port, check, args.requests, args.rate, b'"verdict":"allow"')
            floor = fixed_rate(server.port, health, args.floor_requests, args.rate, b'"ok"')
            print(_load_line("fixed rate", load, floor), flush=True)
        url = server.url
        sat = wrk(url + "/v1/checks", "POST", body, server.token, args.seconds, root)
        sat_floor = wrk(url + "/healthz", "GET", b"", "", args.seconds, root)
        print(_saturation_line("saturation (wrk -t2 -c16)", sat, sat_floor), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30_000)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--floor-requests", type=int, default=10_000, help="of /healthz")
    parser.add_argument("--seconds", type=int, default=15, help="wrk's duration per endpoint")
    parser.add_argument("--history", type=int, default=5_000, help="commits before the policy")
    parser.add_argument("--change", type=int, default=30, help="commits of the checked change")
    parser.add_argument("--unrelated", type=int, default=300, help="other approvals stored")
    parser.add_argument(
        "--setups", default="sqlite,sqlite-2,postgres,postgres-4", help="which setups"
    )
    parser.add_argument("--saturation-only", action="store_true")
    parser.add_argument("--quick", action="store_true", help="a smoke run (tiny numbers)")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.floor_requests, args.rate, args.seconds = 200, 200, 100.0, 1
        args.history, args.change, args.unrelated = 50, 5, 10
        args.setups = "sqlite"
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    root = Path(tempfile.mkdtemp(prefix="twokey-bench-gateway-"))
    try:
        start = time.perf_counter()
        repo = build(root, args.history, args.change, args.unrelated)
        print(
            f"repository: {args.history} commits of history, a change of {args.change} commits "
            f"(5 files each, 3 authors), 1 approval + 1 check for it, {args.unrelated} unrelated "
            f"approvals; built in {time.perf_counter() - start:.1f} s; "
            f"load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        for setup in args.setups.split(","):
            if setup == "sqlite":
                run_setup("SQLite, 1 process", root, repo, "", 1, args)
            elif setup == "sqlite-2":
                run_setup("SQLite, 2 processes (--workers 2)", root, repo, "", 2, args)
            elif setup == "postgres":
                with pg_schema() as url:
                    run_setup("PostgreSQL, 1 process", root, repo, url, 1, args)
            elif setup == "postgres-4":
                with pg_schema() as url:
                    run_setup("PostgreSQL, 4 processes (--workers 4)", root, repo, url, 4, args)
            else:
                raise SystemExit(f"unknown setup {setup!r}")
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
