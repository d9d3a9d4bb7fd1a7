"""Signed pushes for real: ``git push --signed`` with SSH keys, and a captured certificate
replayed through ``git receive-pack`` (issue 15 item 7, ADR 0013)."""

from __future__ import annotations

import hashlib
import re
import struct
import subprocess
from pathlib import Path
from typing import IO

import pytest

from tests.integration.git._harness import Keys, Pushed, Server, push
from tests.integration.git._signed import signing, strict_server
from tests.support.gitrepo import ALICE, BOB, GitRepo, Person, git_env


@pytest.fixture
def strict(tmp_path: Path, keys: Keys) -> Server:
    """A server whose main excludes the last pusher."""
    return strict_server(tmp_path, keys)


def _clone(server: Server, person: Person, name: str) -> GitRepo:
    return server.clone(person, name)


def test_install_sets_up_signed_pushes(strict: Server) -> None:
    git = strict.bare.git
    assert git("config", "gpg.format") == "ssh"
    signers = Path(git("config", "gpg.ssh.allowedSignersFile")).read_text()
    assert strict.keys.public()["bob"].split()[1] in signers
    assert git("config", "receive.certNonceSeed")


def test_a_signed_push_names_the_pusher(strict: Server) -> None:
    alice = _clone(strict, ALICE, "alice")
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    approval = strict.approve(alice, "bob")
    signing(strict, alice, "bob")  # bob's key pushes: bob is the last pusher
    as_bob = push(alice, "--signed", "main", approval)
    assert not as_bob.accepted
    assert "bob is the pusher of this change" in as_bob.findings("!")["SELF_APPROVAL"]
    signing(strict, alice, "alice")
    as_alice = push(alice, "--signed", "main", approval)
    assert as_alice.accepted, as_alice.output


def test_a_certificate_never_overrides_the_transport(strict: Server) -> None:
    alice = _clone(strict, ALICE, "alice")
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    signing(strict, alice, "bob")
    result = push(
        alice, "--signed", "main", strict.approve(alice, "carol"), env={"REMOTE_USER": "alice"}
    )
    assert not result.accepted
    assert (
        "authenticated alice, but the push certificate is signed by bob"
        in (result.findings()["PUSHER_MISMATCH"])
    )


def test_an_unregistered_key_is_refused(strict: Server, tmp_path: Path) -> None:
    alice = _clone(strict, ALICE, "alice")
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    signing(strict, alice, "stranger")
    result = push(alice, "--signed", "main", strict.approve(alice, "bob"))
    assert not result.accepted
    assert "is not registered in the policy" in result.findings()["PUSH_CERT_REFUSED"]


def _capture_certificate(pushed_trace: str) -> list[bytes]:
    """The certificate lines a client sent, read from ``GIT_TRACE_PACKET`` (plain text)."""
    lines = re.findall(r"packet:\s+push> (.*)$", pushed_trace, re.MULTILINE)
    start, end = lines.index("certificate version 0.1"), lines.index("push-cert-end")
    return [line.encode() for line in lines[start:end]]


def _pkt(data: bytes) -> bytes:
    return b"%04x" % (len(data) + 4) + data


def _replay(server: Server, certificate: list[bytes]) -> Pushed:
    """Speak git's push protocol to ``git receive-pack`` with someone else's certificate.

    pack-protocol(5): after the advertisement, ``push-cert\\0<caps>``, the certificate lines,
    ``push-cert-end``, a flush, then a pack (here an empty one: the objects are there).
    """
    empty_pack = b"PACK" + struct.pack(">II", 2, 0)
    empty_pack += hashlib.sha1(empty_pack).digest()
    body = _pkt(b"push-cert\0 report-status object-format=sha1\n")
    body += b"".join(_pkt(line + b"\n") for line in certificate)
    body += _pkt(b"push-cert-end\n") + b"0000" + empty_pack
    proc = subprocess.Popen(
        ["git", "receive-pack", str(server.bare.path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=git_env(),
    )
    assert proc.stdout is not None
    _read_advertisement(proc.stdout)
    out, err = proc.communicate(body, timeout=60)
    text = out.decode(errors="replace") + err.decode(errors="replace")
    return Pushed(0 if "ok refs/heads/main" in text else 1, _as_remote(err.decode()))


def _read_advertisement(stream: IO[bytes]) -> None:
    read = stream.read
    while True:
        size = int(read(4), 16)
        if size == 0:
            return
        read(size - 4)


def _as_remote(text: str) -> str:
    """The hook's report as a client shows it, so ``Pushed.findings`` can read it."""
    return "".join(f"remote: {line}\n" for line in text.splitlines())


def test_a_replayed_certificate_is_refused(strict: Server) -> None:
    alice = _clone(strict, ALICE, "alice")
    head = alice.commit({"app.py": "x\n"}, "Change", ALICE)
    assert push(alice, "HEAD:refs/heads/topic").accepted  # the objects are on the server
    bob = _clone(strict, BOB, "bob")
    bob.git("fetch", "-q", "origin", "topic")
    signing(strict, bob, "bob")
    traced = subprocess.run(
        ["git", "-C", str(bob.path), "push", "--signed", "origin", f"{head}:refs/heads/main"],
        capture_output=True,
        text=True,
        env={**git_env(), "GIT_TRACE_PACKET": "1"},
        check=False,
    )
    assert traced.returncode != 0  # bob's own push: nobody approved yet
    certificate = _capture_certificate(traced.stderr)
    assert push(alice, strict.approve(alice, "carol")).accepted  # carol approves later
    replayed = _replay(strict, certificate)  # alice sends bob's certificate again
    assert not replayed.accepted, replayed.output
    # A replay in a later second carries a stale nonce (BAD); in the same second git's nonce
    # is the current one (OK), and the hook knows the certificate was already used.
    refused = replayed.findings()["PUSH_CERT_REFUSED"]
    assert "nonce is BAD, not OK" in refused or "already used for an earlier push" in refused
    assert strict.head() != head
