"""SSHSIG (PROTOCOL.sshsig): signatures made by the real ssh-keygen, and malformed blobs."""

from __future__ import annotations

import base64
import struct

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.unit.evidence.support import VECTORS, key_of
from twokey.evidence import EvidenceError, Reason, parse_sshsig, sign_sshsig, verify_sshsig
from twokey.evidence._sshsig import _signed_data, armor, key_blob, openssh_line

SSHSIG = VECTORS / "sshsig"
MESSAGE = (SSHSIG / "message.bin").read_bytes()
KINDS = ["ed25519", "ecdsa-p256", "rsa-2048"]


def _pub(name: str) -> str:
    return " ".join((SSHSIG / f"{name}.pub").read_text().split()[:2])


@pytest.mark.parametrize("name", KINDS, ids=KINDS)
def test_ssh_keygen_signatures_verify(name: str) -> None:
    sig = parse_sshsig((SSHSIG / f"{name}.sig").read_bytes())
    assert sig.public_key == _pub(name)
    assert (sig.namespace, sig.hash_algorithm) == ("twokey", "sha512")
    verify_sshsig(sig, MESSAGE, "twokey")


@pytest.mark.parametrize("name", KINDS, ids=KINDS)
def test_ssh_keygen_signatures_bind_message_and_namespace(name: str) -> None:
    sig = parse_sshsig((SSHSIG / f"{name}.sig").read_bytes())
    with pytest.raises(EvidenceError, match="BAD_SIGNATURE: SSH signature does not verify"):
        verify_sshsig(sig, MESSAGE + b"!", "twokey")
    with pytest.raises(EvidenceError, match="BAD_SIGNATURE: namespace 'twokey', expected 'git'"):
        verify_sshsig(sig, MESSAGE, "git")


def test_rsa_under_2048_bits_is_refused() -> None:
    sig = parse_sshsig((SSHSIG / "rsa-1024.sig").read_bytes())
    with pytest.raises(EvidenceError) as caught:
        verify_sshsig(sig, MESSAGE, "twokey")
    assert caught.value.reason is Reason.WEAK_KEY
    assert "RSA key of 1024 bits" in str(caught.value)


def _string(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


def _blob(
    *,
    magic: bytes = b"SSHSIG",
    version: int = 1,
    namespace: bytes = b"twokey",
    hash_alg: bytes = b"sha512",
    sig_type: bytes = b"ssh-ed25519",
    raw: bytes = b"\x00" * 64,
    trailer: bytes = b"",
) -> bytes:
    public = key_blob(openssh_line(key_of("bob").public_key()))
    return (
        magic
        + struct.pack(">I", version)
        + _string(public)
        + _string(namespace)
        + _string(b"")
        + _string(hash_alg)
        + _string(_string(sig_type) + _string(raw))
        + trailer
    )


MALFORMED = {
    "empty": (b"", "not an SSHSIG version 1 blob"),
    "bad-magic": (_blob(magic=b"SSHSIX"), "not an SSHSIG version 1 blob"),
    "version-2": (_blob(version=2), "not an SSHSIG version 1 blob"),
    "truncated": (_blob()[:40], "truncated SSH signature"),
    "length-past-end": (b"SSHSIG" + struct.pack(">II", 1, 0xFFFFFFFF), "truncated"),
    "trailing-bytes": (_blob(trailer=b"x"), "trailing bytes"),
    "hash-md5": (_blob(hash_alg=b"md5"), "hash 'md5' not allowed"),
    "unterminated-armor": (b"-----BEGIN SSH SIGNATURE-----\nAAAA\n", "unterminated"),
    "armor-bad-base64": (
        b"-----BEGIN SSH SIGNATURE-----\n!!!!\n-----END SSH SIGNATURE-----\n",
        "bad SSH signature base64",
    ),
    "oversized": (b"SSHSIG" + b"\x00" * 20_000, "too large"),
}


@pytest.mark.parametrize(("data", "message"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_signatures_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(EvidenceError) as caught:
        parse_sshsig(data)
    assert caught.value.reason in (Reason.MALFORMED_ENVELOPE, Reason.OVERSIZED)
    assert message in str(caught.value)


def test_signature_type_must_fit_the_key() -> None:
    sig = parse_sshsig(_blob(sig_type=b"rsa-sha2-512"))
    with pytest.raises(EvidenceError, match="does not fit the key"):
        verify_sshsig(sig, MESSAGE, "twokey")


def test_sha1_rsa_signatures_are_refused() -> None:
    """``ssh-rsa`` (SHA-1) signatures are refused even when they verify."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    data = _signed_data("twokey", "sha512", MESSAGE)
    raw = key.sign(data, padding.PKCS1v15(), hashes.SHA1())
    public = key_blob(openssh_line(key.public_key()))
    blob = (
        b"SSHSIG"
        + struct.pack(">I", 1)
        + _string(public)
        + _string(b"twokey")
        + _string(b"")
        + _string(b"sha512")
        + _string(_string(b"ssh-rsa") + _string(raw))
    )
    with pytest.raises(EvidenceError, match="ssh-rsa SHA-1 signatures are refused"):
        verify_sshsig(parse_sshsig(armor(blob).encode()), MESSAGE, "twokey")


def test_own_signatures_round_trip_in_raw_and_armored_form() -> None:
    armored = sign_sshsig(key_of("bob"), MESSAGE, "twokey")
    assert armored.startswith("-----BEGIN SSH SIGNATURE-----\n")
    assert all(len(line) <= 70 for line in armored.splitlines())
    raw = base64.b64decode("".join(armored.strip().splitlines()[1:-1]))
    for form in (armored.encode(), raw):
        verify_sshsig(parse_sshsig(form), MESSAGE, "twokey")
