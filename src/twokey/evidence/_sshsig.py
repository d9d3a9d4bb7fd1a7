"""OpenSSH keys and the SSHSIG signature format (PROTOCOL.sshsig), with ``cryptography``.

Signed data (PROTOCOL.sshsig §"Signed Data"): ``"SSHSIG" || string namespace ||
string reserved || string hash_algorithm || string H(message)``. The blob:
``"SSHSIG" || uint32 version=1 || string publickey || string namespace || string reserved ||
string hash_algorithm || string signature``, armored as ``-----BEGIN SSH SIGNATURE-----``.
"""

from __future__ import annotations

__all__ = [
    "SshSignature",
    "armor",
    "fingerprint",
    "key_blob",
    "load_public_key",
    "parse_sshsig",
    "sign_sshsig",
    "verify_sshsig",
]

import base64
import struct
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from twokey import _sha2
from twokey._ed25519 import raw_key
from twokey.evidence._errors import EvidenceError, Reason

# ECDSA, RSA and the SSH key parser are imported when a key needs them: an Ed25519 key in its
# canonical form needs neither (their imports cost a door's start-up more than the checks).
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey
    PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

MAGIC = b"SSHSIG"
BEGIN = "-----BEGIN SSH SIGNATURE-----"
END = "-----END SSH SIGNATURE-----"
MIN_RSA_BITS = 2048
MAX_BLOB = 16 * 1024
_HASHES = {"sha256": _sha2.sha256, "sha512": _sha2.sha512}


@dataclass(frozen=True)
class SshSignature:
    """A parsed SSHSIG blob."""

    public_key: str  # "<type> <base64>"
    namespace: str
    hash_algorithm: str
    sig_type: str
    signature: bytes


def _string(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


_UINT32 = struct.Struct(">I")


def _strings(data: bytes, pos: int, count: int) -> tuple[list[bytes], int]:
    """``count`` SSH ``string``s (uint32 length, then the bytes) from ``pos``, bounds-checked."""
    out = []
    size_of = len(data)
    for _ in range(count):
        if pos + 4 > size_of:
            raise EvidenceError(Reason.MALFORMED_ENVELOPE, "truncated SSH signature")
        (size,) = _UINT32.unpack_from(data, pos)
        end = pos + 4 + size
        if end > size_of:
            raise EvidenceError(Reason.MALFORMED_ENVELOPE, "truncated SSH signature")
        out.append(data[pos + 4 : end])
        pos = end
    return out, pos


def _exact_strings(data: bytes, count: int) -> list[bytes]:
    """Exactly ``count`` strings making up all of ``data`` (no trailing bytes)."""
    out, end = _strings(data, 0, count)
    if end != len(data):
        raise EvidenceError(Reason.MALFORMED_ENVELOPE, "trailing bytes in SSH signature")
    return out


def load_public_key(text: str) -> PublicKey:
    """An OpenSSH public key line as a ``cryptography`` key (weak or odd keys refused)."""
    parts = text.split()
    return _load_key(" ".join(parts[:2]))


@lru_cache(maxsize=4096)
def _load_key(text: str) -> PublicKey:
    """Parsing a key costs more than verifying with it: keys are parsed once."""
    parts = text.split()
    raw = raw_key(parts[0], parts[1]) if len(parts) == 2 else None
    if raw is not None:  # canonical ssh-ed25519: the key the parser would give (ADR 0031)
        return ed25519.Ed25519PublicKey.from_public_bytes(raw)
    return _parse_key(parts)


def _parse_key(parts: list[str]) -> PublicKey:
    from cryptography.exceptions import UnsupportedAlgorithm  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: PLC0415
    from cryptography.hazmat.primitives.serialization import load_ssh_public_key  # noqa: PLC0415

    try:
        key = load_ssh_public_key(f"{parts[0]} {parts[1]}".encode())
    # NotImplementedError: cryptography's answer to a compressed EC point (found by fuzzing)
    except (ValueError, IndexError, TypeError, NotImplementedError, UnsupportedAlgorithm) as exc:
        raise EvidenceError(Reason.MALFORMED_ENVELOPE, f"not an OpenSSH public key: {exc}") from exc
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise EvidenceError(Reason.WEAK_KEY, f"RSA key of {key.key_size} bits (< {MIN_RSA_BITS})")
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name != "secp256r1":
        raise EvidenceError(Reason.WEAK_KEY, f"unsupported curve {key.curve.name}")
    if not isinstance(key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise EvidenceError(Reason.WEAK_KEY, "unsupported key type")
    return key


def openssh_line(key: PublicKey) -> str:
    """``"<type> <base64>"`` for a public key."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat  # noqa: PLC0415

    return key.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()


def key_blob(public_key: str) -> bytes:
    """The SSH wire encoding of a public key line."""
    try:
        return base64.b64decode(public_key.split()[1], validate=True)
    except (IndexError, ValueError) as exc:  # ValueError covers binascii.Error
        raise EvidenceError(Reason.MALFORMED_ENVELOPE, "bad public key encoding") from exc


def fingerprint(public_key: str) -> str:
    """``SHA256:<base64, no padding>`` as ssh-keygen prints it."""
    digest = _sha2.sha256(key_blob(public_key)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def _signed_data(namespace: str, hash_algorithm: str, message: bytes) -> bytes:
    digest = _HASHES[hash_algorithm](message).digest()
    return (
        MAGIC
        + _string(namespace.encode())
        + _string(b"")
        + _string(hash_algorithm.encode())
        + _string(digest)
    )


def armor(blob: bytes) -> str:
    """PEM-style armor, 70 columns, as ssh-keygen writes it."""
    text = base64.b64encode(blob).decode()
    lines = [text[i : i + 70] for i in range(0, len(text), 70)]
    return "\n".join([BEGIN, *lines, END]) + "\n"


def _unarmor(data: bytes) -> bytes:
    if data.startswith(MAGIC):  # already a raw blob (the DSSE form): nothing to undo
        return data
    text = data.decode("ascii", errors="replace").strip()
    if text.startswith(BEGIN):
        if not text.endswith(END):
            raise EvidenceError(Reason.MALFORMED_ENVELOPE, "unterminated SSH signature armor")
        body = "".join(text[len(BEGIN) : -len(END)].split())
        try:
            return base64.b64decode(body, validate=True)
        except ValueError as exc:  # binascii.Error, or non-ASCII text
            raise EvidenceError(Reason.MALFORMED_ENVELOPE, "bad SSH signature base64") from exc
    return data


@lru_cache(maxsize=4096)
def _key_line(public: bytes) -> str:
    """``"<type> <base64>"`` of a public key blob (reviewers' keys repeat: computed once)."""
    [key_type], _ = _strings(public, 0, 1)
    return f"{key_type.decode(errors='replace')} {base64.b64encode(public).decode()}"


def parse_sshsig(data: bytes) -> SshSignature:
    """Parse an armored or raw SSHSIG blob (PROTOCOL.sshsig §2; bounds-checked).

    Raises:
        EvidenceError: OVERSIZED, or MALFORMED_ENVELOPE naming what is wrong.
    """
    blob = _unarmor(data)
    if len(blob) > MAX_BLOB:
        raise EvidenceError(Reason.OVERSIZED, "SSH signature is too large")
    if blob[:6] != MAGIC or blob[6:10] != b"\x00\x00\x00\x01":
        raise EvidenceError(Reason.MALFORMED_ENVELOPE, "not an SSHSIG version 1 blob")
    public, namespace, _reserved, hash_alg, wrapped = _exact_strings(blob[10:], 5)
    sig_type, signature = _exact_strings(wrapped, 2)
    hash_algorithm = hash_alg.decode(errors="replace")
    if hash_algorithm not in _HASHES:
        raise EvidenceError(Reason.MALFORMED_ENVELOPE, f"hash {hash_algorithm!r} not allowed")
    return SshSignature(
        _key_line(public),
        namespace.decode(errors="replace"),
        hash_algorithm,
        sig_type.decode(errors="replace"),
        signature,
    )


def verify_sshsig(sig: SshSignature, message: bytes, namespace: str) -> None:
    """Verify ``sig`` over ``message`` in ``namespace`` with the key it names.

    Steps: (1) the namespace must be the expected one; (2) the key must be acceptable;
    (3) the signature algorithm must fit the key; (4) the signature must verify over the
    SSHSIG signed data built from the exact message bytes.
    """
    if sig.namespace != namespace:  # step 1
        raise EvidenceError(
            Reason.BAD_SIGNATURE, f"namespace {sig.namespace!r}, expected {namespace!r}"
        )
    key = load_public_key(sig.public_key)  # step 2
    data = _signed_data(sig.namespace, sig.hash_algorithm, message)
    try:
        _verify_raw(key, sig.sig_type, sig.signature, data)  # steps 3 and 4
    except InvalidSignature as exc:
        raise EvidenceError(Reason.BAD_SIGNATURE, "SSH signature does not verify") from exc


def _verify_raw(key: PublicKey, sig_type: str, signature: bytes, data: bytes) -> None:
    if isinstance(key, ed25519.Ed25519PublicKey) and sig_type == "ssh-ed25519":
        key.verify(signature, data)
        return
    from cryptography.hazmat.primitives import hashes  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature  # noqa: PLC0415

    rsa_hashes = {"rsa-sha2-256": hashes.SHA256(), "rsa-sha2-512": hashes.SHA512()}
    if isinstance(key, ec.EllipticCurvePublicKey) and sig_type == "ecdsa-sha2-nistp256":
        r_bytes, s_bytes = _exact_strings(signature, 2)
        r, s = int.from_bytes(r_bytes, "big"), int.from_bytes(s_bytes, "big")
        key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
    elif isinstance(key, rsa.RSAPublicKey) and sig_type in rsa_hashes:
        key.verify(signature, data, padding.PKCS1v15(), rsa_hashes[sig_type])
    else:
        raise EvidenceError(
            Reason.BAD_SIGNATURE,
            f"signature type {sig_type!r} does not fit "
            "the key (ssh-rsa SHA-1 signatures are refused)",
        )


def _sign_raw(key: PrivateKey, data: bytes) -> tuple[str, bytes]:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ssh-ed25519", key.sign(data)
    from cryptography.hazmat.primitives import hashes  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec, padding  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature  # noqa: PLC0415

    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))

        def mpint(n: int) -> bytes:
            return _string(n.to_bytes(n.bit_length() // 8 + 1, "big"))

        return "ecdsa-sha2-nistp256", mpint(r) + mpint(s)
    return "rsa-sha2-512", key.sign(data, padding.PKCS1v15(), hashes.SHA512())


def sign_sshsig(key: PrivateKey, message: bytes, namespace: str) -> str:
    """An armored SSHSIG signature over ``message``, as ``ssh-keygen -Y sign`` makes."""
    public = key_blob(openssh_line(key.public_key()))
    sig_type, raw = _sign_raw(key, _signed_data(namespace, "sha512", message))
    blob = (
        MAGIC
        + struct.pack(">I", 1)
        + _string(public)
        + _string(namespace.encode())
        + _string(b"")
        + _string(b"sha512")
        + _string(_string(sig_type.encode()) + _string(raw))
    )
    return armor(blob)
