"""The audit report's data: one row per landed change, totals, sources, policy.

Rows are written to a spool as they are judged (``twokey.audit._spool``) and totals are kept
by :class:`Totals` on the way, so a report over 200,000 changes needs memory for the totals
only, never for the history (issue #6, "memory bounded independent of history length").
"""

from __future__ import annotations

__all__ = [
    "ApproverRow",
    "AuditChange",
    "Deployment",
    "RowCounts",
    "Signal",
    "Totals",
    "summarise",
]

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from twokey.git import MergeResolution

VERDICTS = ("allow", "deny")
# A merge brings p1..merge; a recorded push several first-parent commits the gate judged as
# one update (the ledger's decision names its old commit); anything else is one commit.
KINDS = ("merge", "squash-or-direct", "push")


@dataclass(frozen=True)
class ApproverRow:
    """Someone who approved a change, with the source and trust of the evidence.

    ``time`` is when the approval was given, for signed and forge evidence (a trailer's time is
    the commit's, which says nothing about when the review happened, so it is None).
    """

    who: str
    source: str
    trust: str
    counted: bool
    email: str = ""
    time: str | None = None

    def __post_init__(self) -> None:
        if not self.who:
            raise ValueError("ApproverRow.who must not be empty")

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form (docs/audit-json.md)."""
        return {
            "who": self.who,
            "source": self.source,
            "trust": self.trust,
            "counted": self.counted,
            "time": self.time,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], email: str = "") -> ApproverRow:
        """Inverse of :meth:`to_dict` (the spool's own form adds ``email``)."""
        return cls(
            data["who"], data["source"], data["trust"], data["counted"], email, data.get("time")
        )


@dataclass(frozen=True)
class Deployment:
    """A deploy that first brought a change to an environment."""

    environment: str
    deployer: str
    time: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "environment": self.environment,
            "deployer": self.deployer,
            "time": self.time,
            "source": self.source,
        }


@dataclass(frozen=True)
class AuditChange:
    """One change that landed on the audited ref, judged by the engine.

    ``gate`` is the verdict the gate recorded in the ledger for this update, when the ledger
    was given and holds one; ``None`` otherwise. ``resolutions``: for each merge in the change
    that is not the clean merge of its parents, the merger's own content and its size.
    """

    commit: str
    time: str  # ISO 8601, the commit's own offset
    subject: str
    kind: str  # "merge", "squash-or-direct", "push" (KINDS)
    authors: tuple[str, ...]
    approvers: tuple[ApproverRow, ...]
    merger: str
    deployments: tuple[Deployment, ...]
    verdict: str
    findings: tuple[tuple[str, str], ...]
    break_glass: bool
    files: int | None  # paths changed (None: not read, the default policy needs none)
    author_emails: tuple[str, ...] = ()
    gate: str | None = None
    resolutions: tuple[MergeResolution, ...] = ()

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"AuditChange.verdict must be allow or deny, not {self.verdict!r}")
        if self.kind not in KINDS:
            raise ValueError(f"AuditChange.kind {self.kind!r} is unknown")

    @property
    def month(self) -> str:
        """``YYYY-MM`` of the commit time (the totals' month)."""
        return self.time[:7]

    @property
    def violation(self) -> bool:
        """True for a change the policy would have refused."""
        return self.verdict == "deny"

    @property
    def reviewed(self) -> bool:
        """True when at least one approval counted."""
        return any(a.counted for a in self.approvers)

    @property
    def deployer(self) -> str | None:
        """Who deployed it, per environment (``dave (production)``), or None when unknown."""
        if not self.deployments:
            return None
        return ", ".join(f"{d.deployer} ({d.environment})" for d in self.deployments)

    @property
    def section(self) -> int:
        """Report order: 0 exceptions (break-glass), 1 violations, 2 the rest."""
        return 0 if self.break_glass else 1 if self.violation else 2

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form (docs/audit-json.md)."""
        return {
            "commit": self.commit,
            "time": self.time,
            "subject": self.subject,
            "kind": self.kind,
            "authors": list(self.authors),
            "approvers": [a.to_dict() for a in self.approvers],
            "merger": self.merger,
            "deployer": self.deployer,
            "deployments": [d.to_dict() for d in self.deployments],
            "verdict": self.verdict,
            "gate": self.gate,
            "break_glass": self.break_glass,
            "files": self.files,
            "findings": [{"code": c, "message": m} for c, m in self.findings],
            "resolutions": [r.to_dict() for r in self.resolutions],
        }

    def spool_extras(self) -> dict[str, Any]:
        """What only the audit itself needs back besides :meth:`to_dict` (emails)."""
        return {
            "author_emails": list(self.author_emails),
            "approver_emails": [a.email for a in self.approvers],
        }

    @classmethod
    def from_spool(cls, data: dict[str, Any]) -> AuditChange:
        """Inverse of :meth:`to_dict` merged with :meth:`spool_extras`."""
        return cls(
            data["commit"],
            data["time"],
            data["subject"],
            data["kind"],
            tuple(data["authors"]),
            tuple(
                ApproverRow.from_dict(a, e)
                for a, e in zip(data["approvers"], data["approver_emails"], strict=True)
            ),
            data["merger"],
            tuple(Deployment(**d) for d in data["deployments"]),
            data["verdict"],
            tuple((f["code"], f["message"]) for f in data["findings"]),
            data["break_glass"],
            data["files"],
            tuple(data["author_emails"]),
            data["gate"],
            tuple(MergeResolution.from_dict(r) for r in data.get("resolutions", ())),
        )


@dataclass(frozen=True)
class Signal:
    """A risk signal: explained, never changing a verdict."""

    kind: str
    message: str
    people: tuple[str, ...]
    explanation: str
    commits: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "kind": self.kind,
            "message": self.message,
            "people": list(self.people),
            "commits": list(self.commits),
            "explanation": self.explanation,
        }


@dataclass(frozen=True, slots=True)
class RowCounts:
    """What :class:`Totals` counts of a row, its month aside (rows alike share one)."""

    violation: bool
    reviewed: bool
    break_glass: bool
    deployed: bool
    gate_disagreement: bool
    codes: tuple[str, ...]  # one per finding, as many times as it occurs
    trust: str = ""  # the strongest trust level among counted approvals ("" when none)

    @classmethod
    def of(cls, change: AuditChange) -> RowCounts:
        """The counts of one row."""
        return cls(
            change.violation,
            change.reviewed,
            change.break_glass,
            bool(change.deployments),
            change.gate is not None and change.gate != change.verdict,
            tuple(code for code, _ in change.findings),
            strongest_trust(change),
        )


TRUST_ORDER = ("signed", "forge", "trailer")  # invariant 11: strongest first


def strongest_trust(change: AuditChange) -> str:
    """The strongest evidence a reviewed change rests on: what its "reviewed" is worth."""
    counted = {a.trust for a in change.approvers if a.counted}
    return next((t for t in TRUST_ORDER if t in counted), "")


@dataclass
class Totals:
    """Totals kept while the changes stream past: by verdict, month and finding."""

    changes: int = 0
    violations: int = 0
    reviewed: int = 0
    break_glass: int = 0
    deployed: int = 0
    gate_disagreements: int = 0
    by_month: dict[str, dict[str, int]] = field(default_factory=dict)
    by_finding: Counter[str] = field(default_factory=Counter)
    violations_by_finding: Counter[str] = field(default_factory=Counter)
    reviewed_by_trust: Counter[str] = field(default_factory=Counter)

    def add(self, change: AuditChange) -> None:
        """Count one change."""
        self.count(change.month, RowCounts.of(change))

    def count(self, month: str, counts: RowCounts, times: int = 1) -> None:
        """Count ``times`` changes of month ``month`` that all count as ``counts``."""
        row = self.by_month.setdefault(month, {"changes": 0, "violations": 0, "reviewed": 0})
        violations = times if counts.violation else 0
        reviewed = times if counts.reviewed else 0
        self.changes += times
        self.violations += violations
        self.reviewed += reviewed
        if reviewed and counts.trust:
            self.reviewed_by_trust[counts.trust] += reviewed
        self.break_glass += times if counts.break_glass else 0
        self.deployed += times if counts.deployed else 0
        self.gate_disagreements += times if counts.gate_disagreement else 0
        row["changes"] += times
        row["violations"] += violations
        row["reviewed"] += reviewed
        for code in counts.codes:
            self.by_finding[code] += times
            if violations:
                self.violations_by_finding[code] += violations

    def to_dict(self) -> dict[str, Any]:
        """The ``summary`` object of the JSON report."""
        total = self.changes
        return {
            "changes": total,
            "violations": self.violations,
            "allowed": total - self.violations,
            "reviewed": self.reviewed,
            "reviewed_rate": round(self.reviewed / total, 4) if total else None,
            "reviewed_by_trust": {t: self.reviewed_by_trust[t] for t in TRUST_ORDER},
            "break_glass": self.break_glass,
            "deployed": self.deployed,
            "gate_disagreements": self.gate_disagreements,
            "by_month": dict(sorted(self.by_month.items())),
            "by_finding": dict(sorted(self.by_finding.items())),
            "violations_by_finding": dict(sorted(self.violations_by_finding.items())),
        }


def summarise(changes: Iterable[AuditChange]) -> dict[str, Any]:
    """Totals of ``changes`` (the ``summary`` of the JSON report)."""
    totals = Totals()
    for change in changes:
        totals.add(change)
    return totals.to_dict()
