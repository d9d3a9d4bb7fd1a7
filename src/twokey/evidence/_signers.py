"""Signers: a twokey Ed25519 key (raw DSSE signatures) or an SSH key (SSHSIG signatures)."""

from __future__ import annotations

__all__ = [
    "Ed25519Signer",
    "Signer",
    "SshKeygenSigner",
    "SshSigner",
    "generate_key",
    "load_signer",
]

import abc
import base64
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_ssh_private_key,
)

from twokey._files import PUBLIC, SECRET, write_new
from twokey.errors import InfrastructureError, UsageError
from twokey.evidence._dsse import NAMESPACE, Envelope, Signature, pae
from twokey.evidence._errors import EvidenceError

if TYPE_CHECKING:
    from twokey.evidence._sshsig import PrivateKey
from twokey.evidence._sshsig import (
    fingerprint,
    key_blob,
    load_public_key,
    openssh_line,
    parse_sshsig,
    sign_sshsig,
    verify_sshsig,
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


class SshKeygenSigner(Signer):
    """Signs through ``ssh-keygen -Y sign -n twokey``: for passphrase-protected keys and agents.

    ``path`` is a private key file (ssh-keygen asks for its passphrase) or a ``.pub`` file
    whose private key is held by ssh-agent (``SSH_AUTH_SOCK``). Each signature is checked
    before it is used, so a misbehaving ssh-keygen cannot produce a bad envelope.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        pub = path if path.suffix == ".pub" else Path(f"{path}.pub")
        try:
            line = " ".join(pub.read_text().split()[:2])
        except OSError as exc:
            raise UsageError(f"cannot read public key {pub}: {exc.strerror}") from exc
        try:
            load_public_key(line)
        except EvidenceError as exc:
            raise UsageError(f"{pub}: {exc}") from exc
        self._public = line

    @property
    def public_key(self) -> str:
        return self._public

    def signature(self, message: bytes) -> Signature:
        command = ["ssh-keygen", "-q", "-Y", "sign", "-f", str(self.path), "-n", NAMESPACE]
        try:
            done = subprocess.run(command, input=message, capture_output=True, check=False)
        except OSError as exc:
            raise InfrastructureError(f"cannot run ssh-keygen: {exc}") from exc
        if done.returncode != 0:
            raise UsageError(
                f"ssh-keygen -Y sign failed: {done.stderr.decode(errors='replace').strip()}"
            )
        try:
            parsed = parse_sshsig(done.stdout)
            verify_sshsig(parsed, message, NAMESPACE)
        except EvidenceError as exc:
            raise InfrastructureError(f"ssh-keygen made an unusable signature: {exc}") from exc
        body = "".join(done.stdout.decode().strip().splitlines()[1:-1])
        return Signature(fingerprint(self._public), base64.b64decode(body))


def load_signer(path: Path, *, ssh: bool) -> Signer:
    """The signer for a key file.

    Args:
        path: an OpenSSH private key; with ``ssh``, also a passphrase-protected key or the
            ``.pub`` of a key in ssh-agent (both signed through ``ssh-keygen -Y sign``).
        ssh: sign as SSHSIG (``ssh-keygen -Y sign -n twokey``); else raw Ed25519.

    Raises:
        UsageError: unreadable, unsupported or (without ``ssh``) encrypted keys.
    """
    if ssh and path.suffix == ".pub":
        return SshKeygenSigner(path)
    try:
        key = load_ssh_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise UsageError(f"cannot read key {path}: {exc.strerror}") from exc
    except (ValueError, TypeError) as exc:
        if ssh and "password" in str(exc).lower():
            return SshKeygenSigner(path)
        raise UsageError(
            f"{path} is not an unencrypted OpenSSH private key ({exc})",
            hint="for a passphrase-protected key or ssh-agent, use --ssh-key "
            "(signs through ssh-keygen -Y sign; see docs/evidence.md)",
        ) from exc
    if not ssh and isinstance(key, ed25519.Ed25519PrivateKey):
        return Ed25519Signer(key)
    if isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        return SshSigner(key)
    raise UsageError(f"{path}: unsupported key type (use ed25519, ecdsa P-256 or RSA >= 2048)")


def generate_key(path: Path, comment: str) -> str:
    """Write a new Ed25519 key (OpenSSH private format, mode 0600) and ``.pub``; return the pub.

    Both files are created new (``O_EXCL | O_NOFOLLOW``), the secret one 0600 from its first
    byte (:func:`twokey._files.write_new`): an existing file, or a symlink at either name,
    is refused rather than followed or overwritten.
    """
    key = ed25519.Ed25519PrivateKey.generate()
    pub = Path(f"{path}.pub")
    for name in (path, pub):
        if name.is_symlink() or name.exists():
            raise UsageError(f"{name} exists (or is a symlink); refusing to overwrite a key")
    public = f"{openssh_line(key.public_key())} {comment}".strip()
    key_blob(public)  # sanity: the line parses, before anything is written
    private = key.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption())
    write_new(path, private, SECRET)
    write_new(pub, (public + "\n").encode(), PUBLIC)
    return public
