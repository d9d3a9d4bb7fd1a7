"""The canonical OpenSSH ``ssh-ed25519`` public key line, read without ``cryptography``'s parser.

``cryptography.hazmat.primitives.serialization`` (its SSH key parser, with the ciphers and
curves it imports) costs a door more start-up time than verifying every signature it checks
(issue 10 item 9, ADR 0031). Nearly every key in a policy is ``ssh-ed25519``, whose line is
fixed: ``ssh-ed25519 `` and the base64 of ``string "ssh-ed25519" || string key(32)``.

:func:`raw_key` returns the 32 key bytes only for a line in exactly that canonical form (the
base64 text is the one ``cryptography`` would write back, nothing follows the key); for any
other text it returns ``None`` and the caller runs the general parser as before. So the fast
path accepts a strict subset of what the parser accepts and yields the same key; a property
test compares both on generated and mutated lines.
"""

from __future__ import annotations

__all__ = ["KIND", "raw_key"]

import base64
import binascii

KIND = "ssh-ed25519"
_PREFIX = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20"
_WIRE = len(_PREFIX) + 32
_TEXT = 68  # len(base64 of 51 bytes)


def raw_key(kind: str, blob: str) -> bytes | None:
    """The 32 key bytes of a canonical ``ssh-ed25519`` line (``kind``, ``blob``), else None."""
    if kind != KIND or len(blob) != _TEXT or not blob.isascii():
        return None
    try:
        wire = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(wire) != _WIRE or not wire.startswith(_PREFIX):
        return None
    if base64.b64encode(wire).decode() != blob:  # canonical: the text the parser writes back
        return None
    return wire[len(_PREFIX) :]
