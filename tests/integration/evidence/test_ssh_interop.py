"""Interop with the real ssh-keygen, both ways, for every supported key type."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_ssh_private_key

from twokey.evidence import EvidenceError, Reason, parse_sshsig, sign_sshsig, verify_sshsig

KEY_TYPES = {"ed25519": [], "ecdsa": ["-b", "256"], "rsa": ["-b", "2048"]}
MESSAGE = b"DSSEv1 28 application/vnd.in-toto+json 2 {}"


def keygen(tmp: Path, kind: str, extra: list[str]) -> Path:
    path = tmp / f"id_{kind}"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, *extra, "-N", "", "-C", f"t@{kind}", "-f", str(path)],
        check=True,
    )
    return path


@pytest.mark.parametrize("kind", KEY_TYPES, ids=KEY_TYPES)
def test_ssh_keygen_signature_verifies_in_twokey(tmp_path: Path, kind: str) -> None:
    key = keygen(tmp_path, kind, KEY_TYPES[kind])
    message = tmp_path / "msg"
    message.write_bytes(MESSAGE)
    subprocess.run(
        ["ssh-keygen", "-Y", "sign", "-f", str(key), "-n", "twokey", str(message)],
        check=True,
        capture_output=True,
    )
    sig = parse_sshsig((tmp_path / "msg.sig").read_bytes())
    verify_sshsig(sig, MESSAGE, "twokey")
    assert sig.public_key.split()[:2] == (tmp_path / f"id_{kind}.pub").read_text().split()[:2]
    with pytest.raises(EvidenceError, match="does not verify"):
        verify_sshsig(sig, MESSAGE + b"!", "twokey")
    with pytest.raises(EvidenceError, match="namespace"):
        verify_sshsig(sig, MESSAGE, "git")


@pytest.mark.parametrize("kind", KEY_TYPES, ids=KEY_TYPES)
def test_twokey_signature_verifies_with_ssh_keygen(tmp_path: Path, kind: str) -> None:
    key = keygen(tmp_path, kind, KEY_TYPES[kind])
    private = load_ssh_private_key(key.read_bytes(), None)
    signature = tmp_path / "msg.sig"
    signature.write_text(sign_sshsig(private, MESSAGE, "twokey"))  # type: ignore[arg-type]
    public = (tmp_path / f"id_{kind}.pub").read_text().split()
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f'reviewer@example.com namespaces="twokey" {public[0]} {public[1]}\n')
    result = subprocess.run(
        [
            "ssh-keygen",
            "-Y",
            "verify",
            "-f",
            str(allowed),
            "-I",
            "reviewer@example.com",
            "-n",
            "twokey",
            "-s",
            str(signature),
        ],
        input=MESSAGE,
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert b"Good" in result.stdout


def test_rsa_1024_is_rejected(tmp_path: Path) -> None:
    key = tmp_path / "weak"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "rsa", "-b", "1024", "-N", "", "-f", str(key)],
        check=True,
        capture_output=True,
    )
    message = tmp_path / "msg"
    message.write_bytes(MESSAGE)
    subprocess.run(
        ["ssh-keygen", "-Y", "sign", "-f", str(key), "-n", "twokey", str(message)],
        check=True,
        capture_output=True,
    )
    with pytest.raises(EvidenceError) as caught:
        verify_sshsig(parse_sshsig((tmp_path / "msg.sig").read_bytes()), MESSAGE, "twokey")
    assert caught.value.reason is Reason.WEAK_KEY
