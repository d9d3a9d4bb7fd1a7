"""The pusher as each transport proves it, through the installed hook (issue 15 items 7, 15):
HTTP (``git http-backend`` with ``REMOTE_USER``), ``git daemon`` (no identity at all), each
with and without a signed push."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.git._harness import Keys, Server, push
from tests.integration.git._http import http_git
from tests.integration.git._signed import signing, strict_server
from tests.support.gitrepo import ALICE, ERIN, git_env


@pytest.fixture
def strict(tmp_path: Path, keys: Keys) -> Server:
    """A server whose main excludes the last pusher."""
    return strict_server(tmp_path, keys)


@pytest.fixture
def http(strict: Server) -> Iterator[str]:
    """``host:port`` of an HTTP server for the strict server's repository."""
    with http_git(strict.bare.path.parent) as where:
        yield where


def _remote(user: str, where: str, server: Server) -> str:
    return f"http://{user}:secret@{where}/{server.bare.path.name}"


def test_a_bare_remote_user_is_a_person_of_the_policy(strict: Server, http: str) -> None:
    alice = strict.clone(ALICE, "alice")
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    approval = strict.approve(alice, "bob")
    alice.git("remote", "add", "as-bob", _remote("bob", http, strict))
    alice.git("remote", "add", "as-alice", _remote("alice", http, strict))
    as_bob = push(alice, "main", approval, remote="as-bob")
    assert not as_bob.accepted
    assert "bob is the pusher of this change" in as_bob.findings("!")["SELF_APPROVAL"]
    as_alice = push(alice, "main", approval, remote="as-alice")
    assert as_alice.accepted, as_alice.output


def test_an_unknown_remote_user_is_nobody(strict: Server, http: str) -> None:
    alice = strict.clone(ALICE, "alice")
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    alice.git("remote", "add", "web", _remote("mallory", http, strict))
    result = push(alice, "main", strict.approve(alice, "bob"), remote="web")
    assert not result.accepted
    assert "did not say who pushes" in result.findings()["UNKNOWN_PUSHER"]


def test_over_http_a_certificate_must_agree_with_the_login(strict: Server, http: str) -> None:
    alice = strict.clone(ALICE, "alice")
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    approval = strict.approve(alice, "bob")
    alice.git("remote", "add", "web", _remote("alice", http, strict))
    signing(strict, alice, "bob")
    mismatch = push(alice, "--signed", "main", approval, remote="web")
    assert not mismatch.accepted
    assert "authenticated alice" in mismatch.findings()["PUSHER_MISMATCH"]
    signing(strict, alice, "alice")  # stateless HTTP: git's nonce OK thanks to certNonceSlop
    agreed = push(alice, "--signed", "main", approval, remote="web")
    assert agreed.accepted, agreed.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def daemon(strict: Server) -> Iterator[str]:
    """``git daemon`` (push enabled): a transport that proves nobody."""
    port = _free_port()
    base = strict.bare.path.parent
    proc = subprocess.Popen(
        ["git", "daemon", "--reuseaddr", "--listen=127.0.0.1", f"--port={port}",
         f"--base-path={base}", "--export-all", "--enable=receive-pack", str(base)],
        env=git_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    try:
        yield f"git://127.0.0.1:{port}/{strict.bare.path.name}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_over_git_daemon_only_a_certificate_names_the_pusher(
    strict: Server,
    daemon: str,
    tmp_path: Path,
) -> None:
    alice = strict.clone(ALICE, "alice")
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    approval = strict.approve(alice, "bob")
    alice.git("remote", "add", "daemon", daemon)
    unnamed = push(alice, "main", approval, remote="daemon")
    assert not unnamed.accepted
    assert "UNKNOWN_PUSHER" in unnamed.findings()
    signing(strict, alice, "alice")
    signed = push(alice, "--signed", "main", approval, remote="daemon")
    assert signed.accepted, signed.output


def test_break_glass_over_http_names_the_logged_in_person(strict: Server, http: str) -> None:
    erin = strict.clone(ERIN, "erin")
    erin.commit({"hotfix.py": "x\n"}, "Hotfix", ERIN)
    erin.git("remote", "add", "web", _remote("erin", http, strict))
    glass = ("twokey.break-glass=prod is down",)
    result = push(erin, "main", remote="web", options=glass)
    assert result.accepted, result.output
    assert "break-glass by erin: prod is down" in result.findings("!")["BREAK_GLASS"]
    erin.commit({"hotfix.py": "y\n"}, "Hotfix 2", ERIN)
    erin.git("remote", "add", "as-alice", _remote("alice", http, strict))
    refused = push(erin, "main", remote="as-alice", options=glass)
    assert not refused.accepted
    assert "alice is not allowed to break glass here" in refused.findings()["BREAK_GLASS_DENIED"]
