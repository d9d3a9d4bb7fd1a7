"""Deterministic keys and a small policy registering them, for the evidence unit tests."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from twokey.evidence import Ed25519Signer, SshSigner, StoredEnvelope, ref_for, sign_approval
from twokey.evidence._sshsig import openssh_line
from twokey.policy import Policy, loads

VECTORS = Path(__file__).parents[2] / "vectors" / "evidence"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
REPOSITORY = "example.com/shop"
COMMIT, TREE = "c" * 40, "d" * 40
ARTIFACT = "sha256:" + "ab" * 32


def key_of(name: str, index: int = 0) -> Ed25519PrivateKey:
    """A deterministic Ed25519 key per (name, index)."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"{name}/{index}".encode()).digest())


def public(name: str, index: int = 0) -> str:
    """The OpenSSH public key line of ``key_of(name, index)``."""
    return openssh_line(key_of(name, index).public_key())


ALICE = Ed25519Signer(key_of("alice"))
BOB = Ed25519Signer(key_of("bob"))
BOB_SSH = SshSigner(key_of("bob", 1))  # bob's second key, signing as SSHSIG
CAROL = SshSigner(key_of("carol"))
DAVE = Ed25519Signer(key_of("dave"))  # revoked
ERIN = Ed25519Signer(key_of("erin"))  # valid during 2026 only
CI = Ed25519Signer(key_of("ci"))
MALLORY = Ed25519Signer(key_of("mallory"))  # registered to nobody

POLICY_YAML = f"""\
version: 1
people:
  alice: {{emails: [alice@example.com], keys: ["{public("alice")}"]}}
  bob: {{emails: [bob@example.com], keys: ["{public("bob")}", "{public("bob", 1)} bob@laptop"]}}
  carol: {{emails: [carol@example.com], keys: ["{public("carol")}"]}}
  dave: {{emails: [dave@example.com], keys: [{{key: "{public("dave")}", revoked: true}}]}}
  erin:
    emails: [erin@example.com]
    keys:
      - {{key: "{public("erin")}", valid_after: 2026-01-01T00:00:00Z,
         valid_before: 2027-01-01T00:00:00Z}}
services:
  ci: {{name: CI, emails: [ci@example.com], keys: ["{public("ci")}"]}}
groups:
  reviewers: [alice, bob, carol, dave, erin]
branches:
  main: {{approvals: 1, approvers: [reviewers]}}
policy_changes: {{approvals: 1, approvers: [reviewers]}}
"""
POLICY: Policy = loads(POLICY_YAML, "policy.yml")


def approval(signer: Ed25519Signer | SshSigner = BOB, **fields: object) -> bytes:
    """An approval envelope of COMMIT/TREE for main by ``signer`` (fields override)."""
    values: dict[str, object] = {
        "repository": REPOSITORY,
        "ref": "refs/heads/main",
        "commit": COMMIT,
        "tree": TREE,
        "when": NOW,
        **fields,
    }
    return sign_approval(signer, **values)  # type: ignore[arg-type]


def stored(data: bytes, subject: str = COMMIT) -> StoredEnvelope:
    """``data`` as read from its evidence ref, filed under ``subject``."""
    return StoredEnvelope(data, ref_for(subject, data))
