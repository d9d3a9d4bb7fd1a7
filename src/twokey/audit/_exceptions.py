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
    "VerifiedEntries",
    "alias_of",
    "break_glass_reason",
    "by_the_gate",
    "exception_of",
    "landed_in_history",
    "read_entries",
    "read_exceptions",
    "require_ledger",
    "trusted_verifier",
]

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twokey.engine import evaluate_review
from twokey.errors import InfrastructureError, TwokeyError, UsageError
from twokey.evidence import EvidenceError, StoredEnvelope, verify_envelope
from twokey.git import GitRunner as Git
from twokey.model import Alias, BreakGlassReview
from twokey.policy import Policy

if TYPE_CHECKING:  # the ledger is imported where one is read (--ledger): ~50 ms otherwise
    from twokey.ledger import (
        Assurance,
        DecisionRecord,
        DeployRecord,
        Entry,
        Ledger,
        NoteVerifier,
        VerifyReport,
    )

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
    old: str = ""  # changes: where the ref was
    landed: bool | None = None  # changes: per the post-receive records (None: not known)

    @property
    def open(self) -> bool:
        """Open until reviewed; a break-glass git never made is no open exception."""
        return self.review is None and self.landed is not False

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
            "landed": self.landed,
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
    landed: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (ref, old, new)
    last_landed: int = -1  # index of the newest post-receive record
    unreadable: int = 0
    assurance: Assurance | None = None  # what verifying the ledger proved

    def collect(self, index: int, data: bytes, entry: Entry) -> None:
        """Take what ``entry`` (ledger index ``index``, exact bytes ``data``) adds.

        Raises:
            RecordError: the entry's body is not the record its kind promises.
        """
        from twokey.ledger import (  # noqa: PLC0415
            DecisionRecord,
            DeployRecord,
            LandedRecord,
            ReviewRecord,
            read_record,
        )

        record = read_record(entry)
        if isinstance(record, ReviewRecord):
            self.reviews.append((index, record.envelope, record.entry))
        elif isinstance(record, LandedRecord):
            self.landed.setdefault((record.ref, record.old, record.new), index)
            self.last_landed = index
        elif isinstance(record, DecisionRecord | DeployRecord):
            exception = exception_of(index, data, entry.time, record)
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
        for exception in self.found.values():
            self._landing(exception)
        return [self.found[i] for i in sorted(self.found)]

    def _landing(self, exception: GlassException) -> None:
        """Landed, never landed, or not known (no post-receive record after it: fail closed).

        The post-receive hook records every update git made, after the decision; once a
        record newer than the decision exists and none is this update, git never made it.
        """
        if exception.kind != "change":
            return
        key = (exception.ref, exception.old, exception.commit)
        if self.landed.get(key, -1) > exception.entry:
            exception.landed = True
        elif self.last_landed > exception.entry:
            exception.landed = False


def break_glass_reason(decision: dict[str, Any]) -> str | None:
    """The reason of a recorded break-glass decision, or None when it was none."""
    if not decision.get("break_glass"):
        return None
    for finding in decision.get("findings", ()):
        if isinstance(finding, dict) and finding.get("code") == "BREAK_GLASS":
            return str(finding.get("message", "")).partition(": ")[2] or "recorded break-glass"
    return "recorded break-glass"


def exception_of(
    index: int, data: bytes, time: datetime, record: DecisionRecord | DeployRecord
) -> GlassException | None:
    """The break-glass that ledger entry ``index`` records, if it records an allowed one."""
    from twokey.ledger import DecisionRecord, DeployRecord  # noqa: PLC0415

    decision = record.decision
    if decision is None or decision.get("verdict") != "allow":
        return None
    reason = break_glass_reason(decision)
    gate = isinstance(record, DecisionRecord) and record.door in GATE_DOORS
    if reason is None or not (gate or isinstance(record, DeployRecord)):
        return None
    digest = hashlib.sha256(data).hexdigest()
    if isinstance(record, DecisionRecord):
        actor = alias_of(record.pusher)
        if actor is None:
            return None  # nobody named: a break-glass the gate would never have allowed
        return GlassException(
            index, digest, "change", actor, reason, time, record.new, ref=record.ref, old=record.old
        )
    actor = alias_of(record.deployer)
    if actor is None:
        return None
    return GlassException(
        index,
        digest,
        "deploy",
        actor,
        reason,
        time,
        record.commit,
        environment=record.environment,
    )


def landed_in_history(git: Git, ref: str, found: list[GlassException]) -> list[GlassException]:
    """Overrule "never landed" for a break-glass whose commit is in ``ref``'s history.

    ``landed`` entries are the post-receive hook's statements, unsigned like every door
    record: a forged one could make an open exception look as if git never made it. The audit
    has the history itself, so a break-glass commit on the audited ref landed, whatever the
    ledger says; only the ledger's word is used for commits the history does not hold.
    """
    for exception in found:
        doubted = exception.landed is False and exception.ref == ref and exception.commit
        if doubted and git.ok("merge-base", "--is-ancestor", exception.commit, ref):
            exception.landed = True
    return found


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


def read_exceptions(url: str, policy: Policy, key: str | None = None) -> Exceptions:
    """One pass over the verified ledger at ``url``: its exceptions and reviews (resolve() them).

    Raises:
        UsageError: no ledger at ``url``, or a trusted key that cannot be read.
        LedgerCorruptError: the ledger does not verify (nothing of it is listed).
        InfrastructureError: the ledger cannot be read.
    """
    from twokey.ledger import parse_entry  # noqa: PLC0415

    found = Exceptions()
    entries = VerifiedEntries(url, key)
    for index, data in entries:
        try:
            found.collect(index, data, parse_entry(data))
        except (TwokeyError, KeyError, ValueError, TypeError):
            found.unreadable += 1  # listed by count, never trusted
    found.assurance = entries.assurance
    return found


def trusted_verifier(key: str | None = None) -> NoteVerifier | None:
    """The ledger's public key from ``key`` (a file), else ``$TWOKEY_LEDGER_KEY``; None if unset.

    The key comes from the reader's own configuration, never from the ledger it verifies.

    Raises:
        UsageError: the file cannot be read or holds no signed-note key.
    """
    from twokey.ledger import NoteError, NoteSigner, NoteVerifier  # noqa: PLC0415

    path = key or os.environ.get("TWOKEY_LEDGER_KEY", "")
    if not path:
        return None
    try:
        text = Path(path).read_bytes().decode("utf-8").strip()
        if text.startswith("PRIVATE+KEY+"):
            return NoteSigner.parse(text).verifier()
        return NoteVerifier.parse(text)
    except (OSError, UnicodeDecodeError, NoteError) as exc:
        reason = exc.message if isinstance(exc, NoteError) else str(exc)
        raise UsageError(f"cannot read the ledger's public key {path}: {reason}") from exc


class VerifiedEntries:
    """The entries of an existing ledger, yielded only after the whole ledger verified.

    Verification and reading share one snapshot, so what is read is what verified. After the
    iteration, :attr:`assurance` says what the verification proved (signed by a trusted key,
    consistency only, or nothing); readers put it in their sources line.
    """

    def __init__(self, url: str, key: str | None = None) -> None:
        self.url = url
        self.verifier = trusted_verifier(key)
        self.assurance: Assurance | None = None

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        from twokey.ledger import assess, open_ledger  # noqa: PLC0415

        require_ledger(self.url)
        try:
            with open_ledger(self.url) as ledger, ledger.store.snapshot():
                report = self._verify(ledger)
                self.assurance = assess(
                    report.size, report.checkpoints, report.signed, self.verifier
                )
                yield from ledger.entries(0, report.size)
        except TwokeyError:
            raise
        except Exception as exc:  # any driver error (sqlite3, psycopg): one clear reason
            raise InfrastructureError(
                f"cannot read the ledger {self.url}: {type(exc).__name__}: {exc}"
            ) from exc

    def _verify(self, ledger: Ledger) -> VerifyReport:
        from twokey.ledger import LedgerCorruptError  # noqa: PLC0415

        try:
            return ledger.verify(self.verifier)
        except LedgerCorruptError as exc:
            raise LedgerCorruptError(
                f"the ledger {self.url} does not verify, so none of its records is used: "
                f"{exc.message}",
                exc.first_bad_index,
            ) from exc


def read_entries(url: str, key: str | None = None) -> Iterator[tuple[int, bytes]]:
    """Every entry of the existing, verified ledger at ``url``: (index, exact bytes).

    Raises:
        UsageError: no ledger at ``url``.
        LedgerCorruptError: the ledger does not verify.
        InfrastructureError: the ledger cannot be read (a driver's error, as one reason).
    """
    yield from VerifiedEntries(url, key)


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
