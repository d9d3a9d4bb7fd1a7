"""The audit report's data: one row per landed change, totals, sources, policy."""

from __future__ import annotations

__all__ = ["ApproverRow", "AuditChange", "AuditReport", "Signal", "summarise"]

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ApproverRow:
    """Someone who approved a change, with the source and trust of the evidence."""

    who: str
    source: str
    trust: str
    counted: bool
    email: str = ""


@dataclass(frozen=True)
class AuditChange:
    """One change that landed on the audited ref, judged by the engine."""

    commit: str
    time: str
    month: str
    subject: str
    kind: str  # "merge", "squash-or-direct"
    authors: tuple[str, ...]
    approvers: tuple[ApproverRow, ...]
    merger: str
    deployer: str | None
    verdict: str
    findings: tuple[tuple[str, str], ...]
    break_glass: bool
    files: int
    author_emails: tuple[str, ...] = ()

    @property
    def violation(self) -> bool:
        """True for a change the policy would have refused."""
        return self.verdict == "deny"

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form (docs/audit-json.md)."""
        return {
            "commit": self.commit,
            "time": self.time,
            "subject": self.subject,
            "kind": self.kind,
            "authors": list(self.authors),
            "approvers": [
                {"who": a.who, "source": a.source, "trust": a.trust, "counted": a.counted}
                for a in self.approvers
            ],
            "merger": self.merger,
            "deployer": self.deployer,
            "verdict": self.verdict,
            "break_glass": self.break_glass,
            "findings": [{"code": c, "message": m} for c, m in self.findings],
        }


@dataclass(frozen=True)
class Signal:
    """A risk signal: explained, never changing a verdict."""

    kind: str
    message: str
    people: tuple[str, ...]
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "kind": self.kind,
            "message": self.message,
            "people": list(self.people),
            "explanation": self.explanation,
        }


@dataclass
class AuditReport:
    """Everything a report renderer needs."""

    repository: str
    ref: str
    since: str | None
    until: str | None
    changes: list[AuditChange]
    sources: list[str]
    policy: dict[str, Any]
    signals: list[Signal] = field(default_factory=list)

    def ordered(self) -> list[AuditChange]:
        """Exceptions (break-glass) first, then violations, then the rest; newest first."""
        return sorted(
            self.changes, key=lambda c: (not c.break_glass, not c.violation, c.time), reverse=False
        )

    def summary(self) -> dict[str, Any]:
        """Totals by verdict, month and finding."""
        return summarise(self.changes)

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON report (docs/audit-json.md)."""
        return {
            "version": 1,
            "repository": self.repository,
            "ref": self.ref,
            "period": {"since": self.since, "until": self.until},
            "changes": [c.to_dict() for c in self.ordered()],
            "summary": self.summary(),
            "signals": [s.to_dict() for s in self.signals],
            "sources": self.sources,
            "policy": self.policy,
        }


def summarise(changes: list[AuditChange]) -> dict[str, Any]:
    """Totals: changes, violations, reviewed rate, by month and by finding code."""
    by_month: dict[str, dict[str, int]] = {}
    findings: Counter[str] = Counter()
    for change in changes:
        month = by_month.setdefault(change.month, {"changes": 0, "violations": 0, "reviewed": 0})
        month["changes"] += 1
        month["violations"] += change.violation
        month["reviewed"] += any(a.counted for a in change.approvers)
        for code, _ in change.findings:
            findings[code] += 1
    total = len(changes)
    violations = sum(c.violation for c in changes)
    reviewed = sum(any(a.counted for a in c.approvers) for c in changes)
    return {
        "changes": total,
        "violations": violations,
        "allowed": total - violations,
        "reviewed": reviewed,
        "reviewed_rate": round(reviewed / total, 4) if total else None,
        "break_glass": sum(c.break_glass for c in changes),
        "by_month": dict(sorted(by_month.items())),
        "by_finding": dict(sorted(findings.items())),
    }
