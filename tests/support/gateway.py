"""A real gateway: ``twokey serve`` as a subprocess on a free port, reached over HTTP.

``start_gateway`` waits for ``/healthz`` and returns a handle whose ``stop()`` (also run at the
end of the ``gateway_process`` fixture) terminates the process and reports its stderr when it
died early, so a test failure shows why the server did not come up.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx


def free_port() -> int:
    """A port nobody listens on now (the kernel's pick, released for the server)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningGateway:
    """A ``twokey serve`` process and how to reach it."""

    url: str
    data: Path
    process: subprocess.Popen[bytes]
    log: Path
    args: list[str] = field(default_factory=list)

    def client(self, token: str = "", **headers: str) -> httpx.Client:
        """An HTTP client for the gateway (with ``Authorization: Bearer token`` when given)."""
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def stop(self) -> None:
        """Terminate the process (SIGTERM, then SIGKILL after 10 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def stderr(self) -> str:
        """What the server wrote to stderr so far."""
        return self.log.read_text(errors="replace")


def start_gateway(
    data: Path,
    *args: str,
    repo: Path | None = None,
    database: str = "",
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> RunningGateway:
    """Start ``twokey serve --data DATA [--repo REPO] [--database URL] ARGS`` and wait for it."""
    port = free_port()
    argv = [sys.executable, "-m", "twokey", "serve", "--data", str(data), "--port", str(port)]
    if repo is not None:
        argv += ["--repo", str(repo)]
    if database:
        argv += ["--database", database]
    argv += list(args)
    data.mkdir(parents=True, exist_ok=True)
    log = data.parent / f"{data.name}.serve-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            argv, stdout=sink, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
    url = f"http://127.0.0.1:{port}"
    gateway = RunningGateway(url, data, process, log, argv)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"twokey serve exited {process.returncode}:\n{gateway.stderr()}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return gateway
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    gateway.stop()
    raise RuntimeError(f"twokey serve did not answer within {timeout} s:\n{gateway.stderr()}")


def issue_token(
    database: str,
    kind: str,
    subject: str,
    repo: Path | None = None,
    ttl: int = 3600,
    name: str = "test",
    credential: str = "",
) -> str:
    """A token issued straight into a gateway's database (what ``twokey login`` or an operator
    would obtain), bound as the gateway binds them: a service to itself, a person to their
    first key (or ``sso:`` alias) in ``repo``'s trusted policy; ``credential`` overrides that
    (for someone the policy does not list)."""
    from datetime import UTC, datetime  # noqa: PLC0415

    from twokey.doors import trusted_policy  # noqa: PLC0415
    from twokey.forge import open_database  # noqa: PLC0415
    from twokey.gateway import Tokens, credential_of  # noqa: PLC0415
    from twokey.git import GitReader  # noqa: PLC0415

    if credential:
        pass
    elif kind == "service":
        credential = f"service:{subject}"
    else:
        assert repo is not None, "a person's token needs the repository whose policy lists them"
        reader = GitReader(repo, env={})
        credential = credential_of(trusted_policy(reader, reader.head_ref()).policy, subject)
    db = open_database(database)
    try:
        return Tokens(db).issue(kind, subject, name, datetime.now(UTC), ttl, credential=credential)
    finally:
        db.close()
