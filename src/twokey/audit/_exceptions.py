"""Break-glass exceptions in the ledger, and the after-the-fact reviews that close them.

Invariant 6: a break-glass is marked everywhere and stays an open exception until someone
else reviews it. The exceptions are the ledger's own records: a gate ``decision`` or a
``deploy`` entry whose allowed decision was a break-glass. A review is a ``review`` entry
holding a signed statement (``twokey break-glass review``) about one exception entry, named by
index and by the SHA-256 of its exact bytes. Reviews are verified against the policy and
judged by the engine (:func:`twokey.engine.evaluate_review`: a person other than the one who
broke glass); a review that does not hold is listed with its reason and closes nothing.
"""

from __future__ import annotations

__all__ = [
    "GATE_DOORS",
    "Exceptions",
    "GlassException",
    "Review",
    "alias_of",
    "break_glass_reason",
    "by_the_gate",
    "exception_of",
    "read_entries",
    "read_exceptions",
    "require_ledger",
]

import base64
import binascii
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from twokey.engine import evaluate_review
from twokey.errors import InfrastructureError, TwokeyError, UsageError
from twokey.evidence import EvidenceError, StoredEnvelope, verify_envelope
from twokey.ledger import Entry, EntryKind, open_ledger, parse_entry
from twokey.model import Alias, BreakGlassReview
from twokey.policy import Policy

# Doors whose decision moves a ref: their records are the gate's. ``twokey check`` in CI
# ("ci-check") only advises, so its records are not the gate's verdict.
GATE_DOORS = frozenset({"git-hook", "gateway"})


def by_the_gate(body: dict[str, Any]) -> bool:
    """True for a decision entry a gate wrote (entries older than the ``door`` field: the hook)."""
    return body.get("door", "git-hook") in GATE_DOORS


@dataclass(frozen=True)
class Review:
    """A review that closed an exception."""

    reviewer: str  # person id
    verdict: str  # justified | unjustified
    time: datetime
    comment: str
    entry: int  # the review's own ledger index


@dataclass
class GlassException:
    """One break-glass, open until :attr:`review` is set."""

    entry: int
    entry_sha256: str
    kind: str  # "change" (a gate decision) or "deploy"
    actor: Alias
    reason: str
    time: datetime
    commit: str
    ref: str = ""  # changes
    environment: str = ""  # deploys
    review: Review | None = None
    refused: list[str] = field(default_factory=list)  # reviews that did not hold, and why

    def to_dict(self, actor: str) -> dict[str, Any]:
        """JSON form (docs/audit-json.md, ``exceptions``); ``actor``: the actor's person id."""
        review = self.review
        return {
            "entry": self.entry,
            "kind": self.kind,
            "ref": self.ref or None,
            "environment": self.environment or None,
            "commit": self.commit,
            "actor": actor,
            "reason": self.reason,
            "time": self.time.isoformat(),
            "reviewed": review is not None,
            "review": None
            if review is None
            else {
                "reviewer": review.reviewer,
                "verdict": review.verdict,
                "time": review.time.isoformat(),
                "comment": review.comment,
                "entry": review.entry,
            },
            "refused_reviews": list(self.refused),
        }


@dataclass
class Exceptions:
    """Exceptions and review entries gathered in one pass over the ledger."""

    found: dict[int, GlassException] = field(default_factory=dict)
    reviews: list[tuple[int, bytes, int]] = field(default_factory=list)  # (index, env, entry)
    unreadable: int = 0

    def collect(self, index: int, data: bytes, entry: Entry) -> None:
        """Take what ``entry`` (ledger index ``index``, exact bytes ``data``) adds."""
        if entry.kind is EntryKind.REVIEW:
            self._review(index, entry.body)
            return
        exception = exception_of(index, data, entry)
        if exception is not None:
            self.found[index] = exception

    def resolve(self, policy: Policy) -> list[GlassException]:
        """Every exception, oldest first, closed by the first review that holds."""
        for index, envelope, target in self.reviews:
            exception = self.found.get(target)
            if exception is None:
                continue  # about an entry that is no break-glass: nothing to close
            why = _judge(policy, exception, envelope, index)
            if why:
                exception.refused.append(why)
        return [self.found[i] for i in sorted(self.found)]

    def _review(self, index: int, body: dict[str, Any]) -> None:
        target, envelope = body.get("entry"), body.get("envelope")
        if not isinstance(target, int) or not isinstance(envelope, str):
            self.unreadable += 1
            return
        try:
            self.reviews.append((index, base64.b64decode(envelope, validate=True), target))
        except (binascii.Error, ValueError):
            self.unreadable += 1


def break_glass_reason(decision: dict[str, Any]) -> str | None:
    """The reason of a recorded break-glass decision, or None when it was none."""
    if not decision.get("break_glass"):
        return None
    for finding in decision.get("findings", ()):
        if isinstance(finding, dict) and finding.get("code") == "BREAK_GLASS":
            return str(finding.get("message", "")).partition(": ")[2] or "recorded break-glass"
    return "recorded break-glass"


def exception_of(index: int, data: bytes, entry: Entry) -> GlassException | None:
    """The break-glass that ledger entry ``index`` records, if it records an allowed one."""
    body = entry.body
    decision = body.get("decision")
    if not isinstance(decision, dict) or decision.get("verdict") != "allow":
        return None
    reason = break_glass_reason(decision)
    gate = entry.kind is EntryKind.DECISION and by_the_gate(body)
    if reason is None or not (gate or entry.kind is EntryKind.DEPLOY):
        return None
    actor = alias_of(body.get("pusher") if gate else body.get("deployer"))
    if actor is None:
        return None  # nobody named: a break-glass the gate would never have allowed
    digest = hashlib.sha256(data).hexdigest()
    if gate:
        commit = str(body.get("new", ""))
        return GlassException(
            index, digest, "change", actor, reason, entry.time, commit, ref=str(body["ref"])
        )
    environment = str(body.get("environment", "?"))
    commit = str(body.get("commit", ""))
    return GlassException(
        index, digest, "deploy", actor, reason, entry.time, commit, environment=environment
    )


def require_ledger(url: str) -> None:
    """Refuse a SQLite ledger that does not exist (opening it would create an empty one).

    Raises:
        UsageError: no file at the path ``url`` names.
    """
    if url.startswith(("postgresql://", "postgres://")):
        return
    path = Path(url.removeprefix("sqlite://"))
    if not path.exists():
        raise UsageError(f"no ledger at {path}", hint="pass the URL the doors write to")


def read_exceptions(url: str, policy: Policy) -> Exceptions:
    """One pass over the ledger at ``url``: its exceptions and reviews (resolve() them).

    Raises:
        UsageError: no ledger at ``url``.
        InfrastructureError: the ledger cannot be read.
    """
    found = Exceptions()
    for index, data in read_entries(url):
        try:
            found.collect(index, data, parse_entry(data))
        except (TwokeyError, KeyError, ValueError, TypeError):
            found.unreadable += 1  # listed by count, never trusted
    return found


def read_entries(url: str) -> Iterator[tuple[int, bytes]]:
    """Every entry of the existing ledger at ``url``: (index, exact bytes), oldest first.

    Raises:
        UsageError: no ledger at ``url``.
        InfrastructureError: the ledger cannot be read (a driver's error, as one reason).
    """
    require_ledger(url)
    try:
        with open_ledger(url) as ledger:
            yield from ledger.entries()
    except TwokeyError:
        raise
    except Exception as exc:  # any driver error (sqlite3, psycopg): one clear reason
        raise InfrastructureError(
            f"cannot read the ledger {url}: {type(exc).__name__}: {exc}"
        ) from exc


def _judge(policy: Policy, exception: GlassException, envelope: bytes, index: int) -> str:
    """Close ``exception`` with the review in ``envelope`` (entry ``index``), or say why not.

    The envelope holds one statement, signed by one or more keys: the first signer the engine
    counts closes the exception; when none does, the first reason is the answer.
    """
    try:
        items = verify_envelope(StoredEnvelope(envelope, f"ledger entry {index}"), policy)
    except EvidenceError as exc:
        return f"entry {index}: {exc}"
    reasons = []
    for item in items:
        if not isinstance(item, BreakGlassReview):
            return f"entry {index}: not a break-glass review"
        if (item.entry, item.entry_sha256) != (exception.entry, exception.entry_sha256):
            return f"entry {index}: reviews other bytes than entry {exception.entry}"
        decision = evaluate_review(policy, exception.actor, item)
        if decision.allowed:
            if exception.review is None:
                reviewer = decision.counted[0].person
                exception.review = Review(reviewer, item.verdict, item.time, item.comment, index)
            return ""
        reasons.append(f"entry {index}: {decision.findings[0].message}")
    return reasons[0]


def alias_of(text: object) -> Alias | None:
    """A recorded identity (``kind:value`` or an email) as an alias; None if it is not one."""
    if not isinstance(text, str):
        return None
    try:
        return Alias.parse(text) if ":" in text else Alias.email(text)
    except ValueError:
        return None
