"""C2SP signed notes with Ed25519, and C2SP tlog-checkpoint bodies.

signed-note (c2sp.org/signed-note): the text ends with a newline; then a blank line and one
signature line per signer, ``— <name> <base64(key id || signature)>``. An Ed25519 key's id is
the first four bytes of ``SHA-256(name || 0x0A || 0x01 || public key)``. Verifier keys are
``<name>+<hex key id>+<base64(0x01 || public key)>``; private keys
``PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || seed)>``.

tlog-checkpoint (c2sp.org/tlog-checkpoint): ``<origin>\\n<size>\\n<base64 root>\\n`` and
optional extension lines.
"""

from __future__ import annotations

__all__ = [
    "Checkpoint",
    "NoteError",
    "NoteSigner",
    "NoteVerifier",
    "generate_signer",
    "open_note",
    "sign_note",
]

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from twokey.errors import VerificationError

_ED25519 = b"\x01"
_DASH = "— "  # U+2014 EM DASH, then a space
MAX_NOTE_BYTES = 1 << 20
MAX_SIGNATURES = 100  # as golang.org/x/mod/sumdb/note: a bound on work per note
_DECIMAL = re.compile(r"^(0|[1-9][0-9]{0,18})$")  # ASCII, no leading zeros (tlog-checkpoint)


class NoteError(VerificationError):
    """A note, key or checkpoint is malformed, or no trusted signature verifies."""


def _key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + _ED25519 + public).digest()[:4]


def _check_name(name: str) -> None:
    if not name or any(c.isspace() for c in name) or "+" in name:
        raise NoteError(f"bad key name {name!r}: no spaces or '+'")


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError(f"{what} is not valid base64") from exc


@dataclass(frozen=True)
class NoteVerifier:
    """An Ed25519 verifier key for signed notes."""

    name: str
    key_id: bytes
    public: bytes

    @classmethod
    def parse(cls, vkey: str) -> NoteVerifier:
        """Parse ``name+hexid+base64(0x01||pub)``, checking the id against the key."""
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3 or len(parts[1]) != 8:
            raise NoteError(f"not a verifier key: {vkey!r}")
        name, hex_id, blob = parts
        _check_name(name)
        raw = _b64(blob, "verifier key")
        if len(raw) != 33 or raw[:1] != _ED25519:
            raise NoteError("only Ed25519 verifier keys (type 0x01) are supported")
        key_id = _key_id(name, raw[1:])
        if hex_id != key_id.hex():
            raise NoteError(f"key id {hex_id} does not match the key for {name}")
        return cls(name, key_id, raw[1:])

    def text(self) -> str:
        """The verifier key line."""
        blob = base64.b64encode(_ED25519 + self.public).decode()
        return f"{self.name}+{self.key_id.hex()}+{blob}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True when ``signature`` is this key's Ed25519 signature over ``message``."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class NoteSigner:
    """An Ed25519 signer key for signed notes."""

    name: str
    seed: bytes

    @classmethod
    def parse(cls, skey: str) -> NoteSigner:
        """Parse ``PRIVATE+KEY+name+hexid+base64(0x01||seed)``."""
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("not a signed-note private key (PRIVATE+KEY+name+id+key)")
        raw = _b64(parts[4], "private key")
        if len(raw) != 33 or raw[:1] != _ED25519:
            raise NoteError("only Ed25519 private keys (type 0x01) are supported")
        signer = cls(parts[2], raw[1:])
        _check_name(signer.name)
        if signer.verifier().key_id.hex() != parts[3]:
            raise NoteError("private key id does not match the key")
        return signer

    def verifier(self) -> NoteVerifier:
        """The matching verifier key."""
        public = (
            Ed25519PrivateKey.from_private_bytes(self.seed)
            .public_key()
            .public_bytes(Encoding.Raw, PublicFormat.Raw)
        )
        return NoteVerifier(self.name, _key_id(self.name, public), public)

    def text(self) -> str:
        """The private key line (keep it secret)."""
        blob = base64.b64encode(_ED25519 + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier().key_id.hex()}+{blob}"

    def sign(self, message: bytes) -> bytes:
        """Ed25519 signature (deterministic) over ``message``."""
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


def generate_signer(name: str) -> NoteSigner:
    """A fresh Ed25519 signer named ``name`` (use the log's origin)."""
    _check_name(name)
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    return NoteSigner(name, seed)


def sign_note(text: str, signer: NoteSigner) -> str:
    """The signed note: ``text`` (ending in a newline), a blank line, the signature line."""
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    signature = signer.sign(text.encode())
    blob = base64.b64encode(signer.verifier().key_id + signature).decode()
    return f"{text}\n{_DASH}{signer.name} {blob}\n"


def open_note(note: str, verifier: NoteVerifier) -> str:
    """Verify ``note`` against ``verifier`` and return its text. Raises :class:`NoteError`.

    Steps: (1) split the text from the signature block at the last blank line; (2) parse each
    signature line; (3) the line naming this key (name and id) must verify over the exact
    text bytes; unknown signers are ignored, as c2sp.org/signed-note allows.
    """
    if len(note.encode()) > MAX_NOTE_BYTES:
        raise NoteError("note is too large")
    cut = note.rfind("\n\n")  # step 1
    if cut < 0 or not note.endswith("\n"):
        raise NoteError("note has no signature block")
    text, block = note[: cut + 1], note[cut + 2 :]
    lines = block.split("\n")[:-1]
    if not lines or len(lines) > MAX_SIGNATURES:
        raise NoteError(f"a note carries 1 to {MAX_SIGNATURES} signatures")
    for line in lines:  # step 2
        if not line.startswith(_DASH):
            raise NoteError(f"malformed signature line: {line!r}")
        name, _, blob = line[len(_DASH) :].partition(" ")
        raw = _b64(blob, "signature")
        if len(raw) < 5:
            raise NoteError("signature is too short")
        if name == verifier.name and raw[:4] == verifier.key_id:  # step 3
            if verifier.verify(text.encode(), raw[4:]):
                return text
            raise NoteError(f"signature by {name} does not verify")
    raise NoteError(f"note is not signed by {verifier.name}+{verifier.key_id.hex()}")


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: origin, size and root hash (c2sp.org/tlog-checkpoint, "Note text").

    The body is the origin line, the tree size in ASCII decimal, the base64 root hash, then
    optional non-empty extension lines, each ending in a newline.
    """

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        """The checkpoint text that gets signed."""
        lines = [
            self.origin,
            str(self.size),
            base64.b64encode(self.root).decode(),
            *self.extensions,
        ]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse a checkpoint body (the text of a verified note)."""
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or not lines[0]:
            raise NoteError("malformed checkpoint: need origin, size and root lines")
        if not _DECIMAL.match(lines[1]):
            raise NoteError(f"malformed checkpoint size {lines[1]!r}")
        if "" in lines[3:-1]:
            raise NoteError("malformed checkpoint: an extension line is empty")
        root = _b64(lines[2], "checkpoint root")
        if len(root) != 32:
            raise NoteError("checkpoint root is not a SHA-256 hash")
        return cls(lines[0], int(lines[1]), root, tuple(lines[3:-1]))
