"""Typed ledger records: what each door writes, and the only way readers read it back.

Each record is a frozen dataclass with ``to_dict`` (the entry's body) and ``from_dict`` (its
inverse) side by side, so writer and reader cannot drift apart; ``tests/unit/ledger/
test_records.py`` writes every record and reads it back. Bodies carry ``"schema":
RECORD_SCHEMA``; a body without one is a version-1 record written before the field existed
(same fields), and a newer schema is refused rather than guessed at.

A record is a door's statement, not evidence: the approvals the audit counts are inside
signed envelopes (``EvidenceRecord.envelope``), verified by the reader (ADR 0015).
"""

from __future__ import annotations

__all__ = [
    "RECORD_SCHEMA",
    "AccessRecord",
    "DecisionRecord",
    "DeployRecord",
    "EvidenceRecord",
    "ForgeDeliveryRecord",
    "GatewayDeployRecord",
    "LandedRecord",
    "Record",
    "RecordError",
    "ReviewRecord",
    "read_record",
    "to_entry",
]

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias

from twokey.errors import VerificationError
from twokey.ledger._entry import Entry, EntryKind

RECORD_SCHEMA = 1


class RecordError(VerificationError):
    """An entry's body is not the record its kind promises."""


def _schema(body: dict[str, Any]) -> None:
    version = body.get("schema", RECORD_SCHEMA)
    if version != RECORD_SCHEMA:
        raise RecordError(f"record schema {version!r} is not {RECORD_SCHEMA} (upgrade twokey)")


def _str(body: dict[str, Any], key: str, default: str | None = None) -> str:
    value = body.get(key, default)
    if not isinstance(value, str):
        raise RecordError(f"record field {key!r} must be a string, not {type(value).__name__}")
    return value


def _opt(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise RecordError(f"record field {key!r} must be a string or null")
    return value


def _strs(body: dict[str, Any], key: str) -> tuple[str, ...]:
    value = body.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RecordError(f"record field {key!r} must be a list of strings")
    return tuple(value)


def _decision(body: dict[str, Any], required: bool = True) -> dict[str, Any] | None:
    value = body.get("decision")
    if value is None and not required:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("verdict"), str):
        raise RecordError("record field 'decision' must be a decision with a verdict")
    return value


@dataclass(frozen=True)
class DecisionRecord:
    """A door's decision on one ref update (``decision`` entries)."""

    door: str  # git-hook | ci-check | gateway
    repository: str
    ref: str
    old: str
    new: str
    pusher: str | None
    evidence: tuple[str, ...]
    decision: dict[str, Any] = field(hash=False)

    kind = EntryKind.DECISION

    def to_dict(self) -> dict[str, Any]:
        """The entry body."""
        return {
            "schema": RECORD_SCHEMA,
            "door": self.door,
            "repository": self.repository,
            "ref": self.ref,
            "old": self.old,
            "new": self.new,
            "pusher": self.pusher,
            "evidence": list(self.evidence),
            "decision": self.decision,
        }

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> DecisionRecord:
        """Inverse of :meth:`to_dict` (entries older than ``door``: the hook)."""
        _schema(body)
        decision = _decision(body)
        assert decision is not None
        return cls(
            _str(body, "door", "git-hook"),
            _str(body, "repository", ""),
            _str(body, "ref"),
            _str(body, "old", ""),
            _str(body, "new"),
            _opt(body, "pusher"),
            _strs(body, "evidence"),
            decision,
        )

    @property
    def verdict(self) -> str:
        """``allow`` or ``deny``."""
        return str(self.decision["verdict"])


@dataclass(frozen=True)
class EvidenceRecord:
    """Evidence a door received: an evidence ref created by a push, or a signed envelope.

    ``envelope``: the DSSE envelope's exact bytes, which a reader verifies against its own
    policy before it counts anything in it.
    """

    door: str
    repository: str
    ref: str = ""
    object: str = ""
    envelope: bytes | None = None
    source: str = ""

    kind = EntryKind.EVIDENCE

    def to_dict(self) -> dict[str, Any]:
        """The entry body (only the fields that are set)."""
        body: dict[str, Any] = {"schema": RECORD_SCHEMA, "door": self.door}
        body["repository"] = self.repository
        for key, value in (("ref", self.ref), ("object", self.object), ("source", self.source)):
            if value:
                body[key] = value
        if self.envelope is not None:
            body["envelope"] = base64.b64encode(self.envelope).decode()
        return body

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> EvidenceRecord:
        """Inverse of :meth:`to_dict`."""
        _schema(body)
        raw = _opt(body, "envelope")
        try:
            envelope = None if raw is None else base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise RecordError("record field 'envelope' is not base64") from exc
        return cls(
            _str(body, "door", "git-hook"),
            _str(body, "repository", ""),
            _str(body, "ref", ""),
            _str(body, "object", ""),
            envelope,
            _str(body, "source", ""),
        )


@dataclass(frozen=True)
class DeployRecord:
    """A deploy door's decision (``deploy`` entries): who deployed what, where."""

    door: str
    repository: str
    environment: str
    artifact: str
    commit: str
    deployer: str
    requester: str
    since: str | None
    evidence: tuple[str, ...]
    decision: dict[str, Any] | None = field(default=None, hash=False)
    policy: str = ""  # where the door's trusted policy came from (ADR 0014)

    kind = EntryKind.DEPLOY

    def to_dict(self) -> dict[str, Any]:
        """The entry body."""
        return {
            "schema": RECORD_SCHEMA,
            "door": self.door,
            "repository": self.repository,
            "environment": self.environment,
            "artifact": self.artifact,
            "commit": self.commit,
            "deployer": self.deployer,
            "requester": self.requester,
            "since": self.since,
            "evidence": list(self.evidence),
            "decision": self.decision,
            "policy": self.policy,
        }

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> DeployRecord:
        """Inverse of :meth:`to_dict`."""
        _schema(body)
        return cls(
            _str(body, "door", "deploy-check"),
            _str(body, "repository", ""),
            _str(body, "environment", "?"),
            _str(body, "artifact", ""),
            _str(body, "commit"),
            _str(body, "deployer"),
            _str(body, "requester", ""),
            _opt(body, "since"),
            _strs(body, "evidence"),
            _decision(body, required=False),
            _str(body, "policy", ""),
        )

    @property
    def happened(self) -> bool:
        """False for a refused deploy (it did not happen)."""
        return self.decision is None or self.decision.get("verdict") == "allow"


@dataclass(frozen=True)
class ReviewRecord:
    """An after-the-fact review of the break-glass at ledger index ``entry`` (signed)."""

    door: str
    entry: int
    envelope: bytes

    kind = EntryKind.REVIEW

    def to_dict(self) -> dict[str, Any]:
        """The entry body."""
        return {
            "schema": RECORD_SCHEMA,
            "door": self.door,
            "entry": self.entry,
            "envelope": base64.b64encode(self.envelope).decode(),
        }

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> ReviewRecord:
        """Inverse of :meth:`to_dict`."""
        _schema(body)
        entry = body.get("entry")
        if not isinstance(entry, int) or isinstance(entry, bool) or entry < 0:
            raise RecordError("record field 'entry' must be a ledger index")
        try:
            envelope = base64.b64decode(_str(body, "envelope"), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise RecordError("record field 'envelope' is not base64") from exc
        return cls(_str(body, "door", "break-glass-review"), entry, envelope)


@dataclass(frozen=True)
class LandedRecord:
    """A ref update git actually made (``landed`` entries, written by post-receive)."""

    door: str
    repository: str
    ref: str
    old: str
    new: str

    kind = EntryKind.LANDED

    def to_dict(self) -> dict[str, Any]:
        """The entry body."""
        return {
            "schema": RECORD_SCHEMA,
            "door": self.door,
            "repository": self.repository,
            "ref": self.ref,
            "old": self.old,
            "new": self.new,
        }

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> LandedRecord:
        """Inverse of :meth:`to_dict`."""
        _schema(body)
        return cls(
            _str(body, "door"),
            _str(body, "repository", ""),
            _str(body, "ref"),
            _str(body, "old"),
            _str(body, "new"),
        )


@dataclass(frozen=True)
class ForgeDeliveryRecord:
    """A webhook delivery a forge sent, authenticated and new (``forge`` entries), recorded
    before it takes effect (invariant 9). ``body_sha256`` names the exact bytes received;
    ``subject`` is what it is about (``pull/12@<head>``, ``review/9``, ``deployment/3``...)."""

    door: str
    forge: str
    delivery: str
    event: str
    action: str
    repository: str
    sender: str
    subject: str
    body_sha256: str

    kind = EntryKind.FORGE

    def to_dict(self) -> dict[str, Any]:
        """The entry body."""
        return {
            "schema": RECORD_SCHEMA,
            "door": self.door,
            "forge": self.forge,
            "delivery": self.delivery,
            "event": self.event,
            "action": self.action,
            "repository": self.repository,
            "sender": self.sender,
            "subject": self.subject,
            "body_sha256": self.body_sha256,
        }

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> ForgeDeliveryRecord:
        """Inverse of :meth:`to_dict`."""
        _schema(body)
        return cls(
            _str(body, "door"),
            _str(body, "forge"),
            _str(body, "delivery"),
            _str(body, "event"),
            _str(body, "action"),
            _str(body, "repository"),
            _str(body, "sender"),
            _str(body, "subject"),
            _str(body, "body_sha256"),
        )


@dataclass(frozen=True)
class GatewayDeployRecord:
    """A state change of a gateway deploy request (``gateway`` entries), recorded before it
    takes effect (invariant 9): ``event`` is ``requested``, ``approved``, ``rejected``,
    ``cancelled``, ``authorized``, ``run-started`` or ``run-finished``; ``actor`` the policy id
    of who caused it (``gateway`` for the gateway itself); ``detail`` what the event adds (a
    reason, a break-glass reason, an authorization's nonce, expiry and digest, a run's exit
    status and output). The engine's decisions themselves are ``deploy`` entries
    (:class:`DeployRecord`, door ``gateway``), so the audit and ``twokey break-glass`` read them
    as they read every deploy door's."""

    door: str
    event: str
    request: str
    repository: str
    environment: str
    commit: str
    artifact: str
    actor: str
    detail: dict[str, Any] = field(default_factory=dict, hash=False)

    kind = EntryKind.GATEWAY

    def to_dict(self) -> dict[str, Any]:
        """The entry body."""
        return {
            "schema": RECORD_SCHEMA,
            "door": self.door,
            "event": self.event,
            "request": self.request,
            "repository": self.repository,
            "environment": self.environment,
            "commit": self.commit,
            "artifact": self.artifact,
            "actor": self.actor,
            "detail": dict(self.detail),
        }

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> GatewayDeployRecord:
        """Inverse of :meth:`to_dict`."""
        _schema(body)
        detail = body.get("detail", {})
        if not isinstance(detail, dict):
            raise RecordError("record field 'detail' must be an object")
        return cls(
            _str(body, "door", "gateway"),
            _str(body, "event"),
            _str(body, "request"),
            _str(body, "repository", ""),
            _str(body, "environment"),
            _str(body, "commit"),
            _str(body, "artifact"),
            _str(body, "actor"),
            detail,
        )


@dataclass(frozen=True)
class AccessRecord:
    """Who is calling the gateway (``access`` entries): a sign-in or its refusal, a browser
    session opened or closed, a token created or revoked; recorded before it takes effect.

    ``action`` is what happened (``sign-in``, ``sign-in-refused``, ``browser-code``,
    ``session``, ``sign-out``, ``token-create``, ``token-revoke``); ``person`` who did it (for
    a refusal: who the caller claimed to be); ``method`` how they proved it (``ssh``, ``code``,
    ``sso``, ``token``); ``token`` the id (12 hex digits of its hash) of the token concerned,
    never the token; ``detail`` the key fingerprint, SSO subject or the reason of a refusal.
    """

    door: str
    repository: str
    action: str
    person: str
    method: str
    token: str = ""
    detail: str = ""

    kind = EntryKind.ACCESS

    def to_dict(self) -> dict[str, Any]:
        """The entry body."""
        return {
            "schema": RECORD_SCHEMA,
            "door": self.door,
            "repository": self.repository,
            "action": self.action,
            "person": self.person,
            "method": self.method,
            "token": self.token,
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> AccessRecord:
        """Inverse of :meth:`to_dict`."""
        _schema(body)
        return cls(
            _str(body, "door"),
            _str(body, "repository"),
            _str(body, "action"),
            _str(body, "person"),
            _str(body, "method"),
            _str(body, "token", ""),
            _str(body, "detail", ""),
        )


Record: TypeAlias = (
    DecisionRecord
    | EvidenceRecord
    | DeployRecord
    | ReviewRecord
    | LandedRecord
    | ForgeDeliveryRecord
    | GatewayDeployRecord
    | AccessRecord
)


def read_record(entry: Entry) -> Record | None:
    """The typed record an entry holds; None for kinds that hold none (notes, policy).

    Raises:
        RecordError: the body is not the record its kind promises.
    """
    body, kind = entry.body, entry.kind
    if kind is EntryKind.NOTE or kind is EntryKind.POLICY:
        return None
    return _READERS[kind](body)


_READERS: dict[EntryKind, Callable[[dict[str, Any]], Record]] = {
    EntryKind.DECISION: DecisionRecord.from_dict,
    EntryKind.EVIDENCE: EvidenceRecord.from_dict,
    EntryKind.DEPLOY: DeployRecord.from_dict,
    EntryKind.REVIEW: ReviewRecord.from_dict,
    EntryKind.LANDED: LandedRecord.from_dict,
    EntryKind.FORGE: ForgeDeliveryRecord.from_dict,
    EntryKind.GATEWAY: GatewayDeployRecord.from_dict,
    EntryKind.ACCESS: AccessRecord.from_dict,
}


def to_entry(record: Record, time: datetime) -> Entry:
    """The ledger entry of ``record`` at ``time`` (a timezone-aware datetime)."""
    return Entry(record.kind, record.to_dict(), time)
