"""Commit signatures made with ``gpg.format=ssh``, verified as ``git verify-commit`` does."""

from __future__ import annotations

__all__ = ["verify_commit_signature"]

from datetime import UTC, datetime

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


def _committed_at(payload: bytes) -> datetime | None:
    """The committer time of a commit object (git checks key validity at this time)."""
    head = payload.partition(b"\n\n")[0]
    for line in head.split(b"\n"):
        if line.startswith(b"committer "):
            try:
                return datetime.fromtimestamp(int(line.rsplit(b" ", 2)[1]), UTC)
            except (ValueError, IndexError, OverflowError):
                return None
    return None


def _admitted(policy: Policy, key: Alias, payload: bytes) -> bool:
    """Registered, unrevoked, and valid at the committer time (as allowed_signers would say)."""
    if policy.resolve(key) is None:
        return False
    validity = policy.key_validity.get(key)
    if validity is None:
        return True
    when = _committed_at(payload)
    return when is not None and validity.valid_at(when)


def verify_commit_signature(raw: bytes, policy: Policy | None = None) -> CommitSignature | None:
    """The signature of a raw commit object: its key, and whether it verifies.

    ``valid`` is True only when the SSH signature verifies over the exact payload in the
    ``git`` namespace and, when a policy is given, the key is registered in it, not revoked
    and valid at the committer time (what ``git verify-commit`` says with the allowed_signers
    file of ``twokey keys allowed-signers``). The doors pass no policy: the committer time is
    the signer's own claim, so the engine judges the key at the door's time (ADR 0012).
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
    return CommitSignature(key, valid=policy is None or _admitted(policy, key, payload))
