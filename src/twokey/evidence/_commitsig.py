"""Commit signatures made with ``gpg.format=ssh``, verified as ``git verify-commit`` does."""

from __future__ import annotations

__all__ = ["verify_commit_signature"]

from twokey.evidence._errors import EvidenceError
from twokey.evidence._sshsig import parse_sshsig, verify_sshsig
from twokey.model import Alias, CommitSignature
from twokey.policy import Policy

GIT_NAMESPACE = "git"


def split_signature(raw: bytes) -> tuple[bytes, bytes] | None:
    """(signed payload, armored signature) of a raw commit object, or None when unsigned.

    The payload is the object with its ``gpgsig`` header (and continuation lines) removed,
    exactly as git hands it to the verifier.
    """
    head, sep, body = raw.partition(b"\n\n")
    lines = head.split(b"\n")
    kept: list[bytes] = []
    signature: list[bytes] = []
    inside = False
    for line in lines:
        if line.startswith(b"gpgsig "):
            inside = True
            signature.append(line[len(b"gpgsig ") :])
        elif inside and line.startswith(b" "):
            signature.append(line[1:])
        else:
            inside = False
            kept.append(line)
    if not signature:
        return None
    return b"\n".join(kept) + sep + body, b"\n".join(signature) + b"\n"


def verify_commit_signature(raw: bytes, policy: Policy | None = None) -> CommitSignature | None:
    """The signature of a raw commit object: its key, and whether it verifies.

    ``valid`` is True only when the SSH signature verifies over the exact payload in the
    ``git`` namespace and, when a policy is given, the key is registered in it.
    """
    parts = split_signature(raw)
    if parts is None:
        return None
    payload, armored = parts
    if not armored.startswith(b"-----BEGIN SSH SIGNATURE-----"):
        return CommitSignature(None, valid=False, format="gpg")
    try:
        sig = parse_sshsig(armored)
    except EvidenceError:
        return CommitSignature(None, valid=False)
    key = Alias.key(sig.public_key)
    try:
        verify_sshsig(sig, payload, GIT_NAMESPACE)
    except EvidenceError:
        return CommitSignature(key, valid=False)
    known = policy is None or policy.resolve(key) is not None
    return CommitSignature(key, valid=known)
