"""Signers: a twokey Ed25519 key (raw DSSE signatures) or an SSH key (SSHSIG signatures)."""

from __future__ import annotations

__all__ = ["Ed25519Signer", "Signer", "SshSigner", "generate_key", "load_signer"]

import abc
import base64
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_ssh_private_key,
)

from twokey.errors import UsageError
from twokey.evidence._dsse import NAMESPACE, Envelope, Signature, pae
from twokey.evidence._sshsig import (
    PrivateKey,
    fingerprint,
    key_blob,
    openssh_line,
    sign_sshsig,
)


class Signer(abc.ABC):
    """Signs DSSE envelopes."""

    @property
    @abc.abstractmethod
    def public_key(self) -> str:
        """The signer's OpenSSH public key line (no comment)."""

    @abc.abstractmethod
    def signature(self, message: bytes) -> Signature:
        """A DSSE signature over ``message`` (the PAE bytes)."""

    def envelope(self, payload_type: str, payload: bytes) -> Envelope:
        """Sign ``payload`` into a DSSE envelope."""
        return Envelope(payload_type, payload, (self.signature(pae(payload_type, payload)),))


class Ed25519Signer(Signer):
    """A twokey Ed25519 key: raw Ed25519 signatures, keyid = SHA256 fingerprint."""

    def __init__(self, key: ed25519.Ed25519PrivateKey) -> None:
        self.key = key

    @property
    def public_key(self) -> str:
        return openssh_line(self.key.public_key())

    def signature(self, message: bytes) -> Signature:
        return Signature(fingerprint(self.public_key), self.key.sign(message))


class SshSigner(Signer):
    """Any supported SSH key: SSHSIG signatures in namespace ``twokey``, as ssh-keygen -Y sign."""

    def __init__(self, key: PrivateKey) -> None:
        self.key = key

    @property
    def public_key(self) -> str:
        return openssh_line(self.key.public_key())

    def signature(self, message: bytes) -> Signature:
        armored = sign_sshsig(self.key, message, NAMESPACE)
        body = "".join(armored.strip().splitlines()[1:-1])
        return Signature(fingerprint(self.public_key), base64.b64decode(body))


def load_signer(path: Path, *, ssh: bool) -> Signer:
    """Load an unencrypted OpenSSH private key; ``ssh`` selects SSHSIG signatures."""
    try:
        key = load_ssh_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise UsageError(f"cannot read key {path}: {exc.strerror}") from exc
    except (ValueError, TypeError) as exc:
        raise UsageError(
            f"{path} is not an unencrypted OpenSSH private key ({exc})",
            hint="for a passphrase-protected key, sign with ssh-agent via "
            "ssh-keygen -Y sign (see docs/evidence.md)",
        ) from exc
    if not ssh and isinstance(key, ed25519.Ed25519PrivateKey):
        return Ed25519Signer(key)
    if isinstance(key, PrivateKey):
        return SshSigner(key)
    raise UsageError(f"{path}: unsupported key type (use ed25519, ecdsa P-256 or RSA >= 2048)")


def generate_key(path: Path, comment: str) -> str:
    """Write a new Ed25519 key (OpenSSH private format, mode 0600) and ``.pub``; return the pub."""
    key = ed25519.Ed25519PrivateKey.generate()
    if path.exists():
        raise UsageError(f"{path} exists; refusing to overwrite a key")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption()))
    path.chmod(0o600)
    public = f"{openssh_line(key.public_key())} {comment}".strip()
    Path(f"{path}.pub").write_text(public + "\n")
    key_blob(public)  # sanity: the line parses
    return public
