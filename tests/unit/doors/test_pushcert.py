"""Push certificates verified by the hook itself, whatever the environment claims (ADR 0013)."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from twokey.doors._pushcert import (
    NONCE_WINDOW,
    CertVerdict,
    certificate_ledger,
    check_push_certificate,
)
from twokey.evidence import sign_sshsig
from twokey.evidence._sshsig import openssh_line
from twokey.model import Alias
from twokey.policy import loads

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
BOB = ed25519.Ed25519PrivateKey.generate()
OLD = ed25519.Ed25519PrivateKey.generate()
POLICY = loads(
    f"""\
version: 1
people:
  bob: {{name: Bob, emails: [bob@example.com], keys: ["{openssh_line(BOB.public_key())}"]}}
  old:
    name: Old
    emails: [old@example.com]
    keys:
      - key: "{openssh_line(OLD.public_key())}"
        revoked: true
groups:
  reviewers: [bob]
branches:
  main: {{approvals: 1, approvers: [reviewers]}}
policy_changes: {{approvals: 1, approvers: [reviewers]}}
""",
    "policy.yml",
)
OK = {"GIT_PUSH_CERT": "c" * 40, "GIT_PUSH_CERT_NONCE_STATUS": "OK", "GIT_PUSH_CERT_STATUS": "G"}


def _cert(key: ed25519.Ed25519PrivateKey, stamp: datetime, namespace: str = "git") -> bytes:
    body = (
        "certificate version 0.1\n"
        "pusher SHA256:x 1 +0000\n"
        "pushee /srv/git/shop.git\n"
        f"nonce {int(stamp.timestamp())}-{'ab' * 20}\n\n"
        f"{'0' * 40} {'1' * 40} refs/heads/main\n"
    ).encode()
    return body + sign_sshsig(key, body, namespace).encode()


CASES = {
    "fresh": (OK, _cert(BOB, NOW), ""),
    "nonce-bad": ({**OK, "GIT_PUSH_CERT_NONCE_STATUS": "BAD"}, _cert(BOB, NOW), "nonce is BAD"),
    "nonce-slop": ({**OK, "GIT_PUSH_CERT_NONCE_STATUS": "SLOP"}, _cert(BOB, NOW), "is SLOP"),
    "forged-ok-but-old": (OK, _cert(BOB, NOW - timedelta(hours=1)), "3600 s old"),
    "from-the-future": (OK, _cert(BOB, NOW + timedelta(hours=1)), "3600 s old"),
    "other-namespace": (OK, _cert(BOB, NOW, "twokey"), "does not verify"),
    "revoked-key": (OK, _cert(OLD, NOW), "is revoked"),
    "unregistered": (OK, _cert(ed25519.Ed25519PrivateKey.generate(), NOW), "not registered"),
    "unsigned": (OK, b"certificate version 0.1\n\n", "not signed with an SSH key"),
}


@pytest.mark.parametrize(("env", "cert", "problem"), CASES.values(), ids=CASES.keys())
def test_a_certificate_counts_only_when_everything_holds(
    env: dict[str, str], cert: bytes, problem: str
) -> None:
    verdict = check_push_certificate(env, lambda _: cert, POLICY, NOW)
    if problem:
        assert problem in verdict.problem
        assert verdict.signer is None
    else:
        assert verdict.signer == Alias.key(openssh_line(BOB.public_key()))
        assert verdict.problem == ""


def test_a_tampered_certificate_does_not_verify() -> None:
    cert = _cert(BOB, NOW).replace(b"refs/heads/main", b"refs/heads/prod")
    verdict = check_push_certificate(OK, lambda _: cert, POLICY, NOW)
    assert "does not verify" in verdict.problem


def test_no_certificate_is_no_verdict() -> None:
    verdict = check_push_certificate({"GIT_PUSH_CERT_STATUS": "G"}, lambda _: None, POLICY, NOW)
    assert verdict.signer is None
    assert verdict.problem == ""


def test_a_certificate_counts_once_even_when_git_says_its_nonce_is_ok(tmp_path: Path) -> None:
    """Replayed within the same second, a certificate carries git's current nonce (OK)."""
    once = certificate_ledger(tmp_path)
    cert = _cert(BOB, NOW)
    first = check_push_certificate(OK, lambda _blob: cert, POLICY, NOW, once)
    assert first == CertVerdict(signer=Alias.key(openssh_line(BOB.public_key())))
    again = check_push_certificate(OK, lambda _blob: cert, POLICY, NOW, once)
    assert again.signer is None
    assert "already used for an earlier push" in again.problem
    # Bytes appended after the signature make another blob, not another certificate.
    padded = {**OK, "GIT_PUSH_CERT": "d" * 40}
    replay = check_push_certificate(padded, lambda _blob: cert + b"\n\n", POLICY, NOW, once)
    assert "already used for an earlier push" in replay.problem
    other = _cert(BOB, NOW + timedelta(seconds=1))  # another push: another signed part
    assert check_push_certificate(OK, lambda _blob: other, POLICY, NOW, once).signer is not None


def test_a_certificate_that_does_not_verify_uses_up_nothing(tmp_path: Path) -> None:
    """Only a verified certificate is marked: nobody can use up someone else's in advance."""
    once = certificate_ledger(tmp_path)
    cert = _cert(BOB, NOW)
    forged = cert.replace(b"refs/heads/main", b"refs/heads/mail")  # the signature breaks
    assert (
        "does not verify"
        in check_push_certificate(OK, lambda _b: forged, POLICY, NOW, once).problem
    )
    assert check_push_certificate(OK, lambda _b: cert, POLICY, NOW, once).signer is not None


def test_the_used_certificates_are_forgotten_after_twice_the_nonce_window(tmp_path: Path) -> None:
    once = certificate_ledger(tmp_path)
    assert once("e" * 40)
    used = tmp_path / "twokey" / "push-certs" / ("e" * 40)
    old = time.time() - 2 * NONCE_WINDOW.total_seconds() - 1
    os.utime(used, (old, old))
    assert once("f" * 40)  # using the directory prunes what is too old to pass step 2
    assert not used.exists()
    assert not once("f" * 40)
    assert not once("../escape")  # only object ids name a file
