"""Decisions and findings: what the engine answers, and why."""

from __future__ import annotations

__all__ = [
    "Counted",
    "Decision",
    "Excluded",
    "Finding",
    "FindingCode",
    "RuleRef",
    "Severity",
    "Verdict",
]

import enum
from dataclasses import dataclass


class Verdict(enum.StrEnum):
    """Allow or deny. There is nothing in between: warnings ride on an allow."""

    ALLOW = "allow"
    DENY = "deny"


class Severity(enum.StrEnum):
    """A finding either denies, or is shown without denying."""

    DENY = "deny"
    WARN = "warn"
    INFO = "info"


class FindingCode(enum.StrEnum):
    """Stable finding codes; each is documented in ``docs/findings.md``."""

    # ref updates
    FORCE_PUSH = "FORCE_PUSH"
    REF_DELETION = "REF_DELETION"
    INSUFFICIENT_APPROVALS = "INSUFFICIENT_APPROVALS"
    SELF_APPROVAL = "SELF_APPROVAL"
    STALE_APPROVAL = "STALE_APPROVAL"
    NOT_AN_APPROVER = "NOT_AN_APPROVER"
    SERVICE_APPROVAL = "SERVICE_APPROVAL"
    UNKNOWN_SIGNER = "UNKNOWN_SIGNER"
    UNTRUSTED_EVIDENCE = "UNTRUSTED_EVIDENCE"
    EVIDENCE_MISMATCH = "EVIDENCE_MISMATCH"
    OWNER_APPROVAL_MISSING = "OWNER_APPROVAL_MISSING"
    POLICY_CHANGE_UNAPPROVED = "POLICY_CHANGE_UNAPPROVED"
    UNCLEAN_MERGE = "UNCLEAN_MERGE"
    UNKNOWN_PUSHER = "UNKNOWN_PUSHER"
    CHECK_MISSING = "CHECK_MISSING"
    CHECK_FAILED = "CHECK_FAILED"
    TOO_FEW_ELIGIBLE = "TOO_FEW_ELIGIBLE"
    UNPROTECTED_REF = "UNPROTECTED_REF"
    # transport and evidence (ADR 0013)
    PUSH_CERT_REFUSED = "PUSH_CERT_REFUSED"
    PUSHER_MISMATCH = "PUSHER_MISMATCH"
    KEY_REVOKED = "KEY_REVOKED"
    KEY_EXPIRED = "KEY_EXPIRED"
    # authorship (ADR 0012)
    UNKNOWN_AUTHOR = "UNKNOWN_AUTHOR"
    UNSIGNED_COMMIT = "UNSIGNED_COMMIT"
    AUTHOR_SIGNATURE_MISMATCH = "AUTHOR_SIGNATURE_MISMATCH"
    # what a protected ref may name (ADR 0011)
    NOT_A_COMMIT = "NOT_A_COMMIT"
    TAG_MOVED = "TAG_MOVED"
    # deploys
    UNKNOWN_ENVIRONMENT = "UNKNOWN_ENVIRONMENT"
    REF_NOT_DEPLOYABLE = "REF_NOT_DEPLOYABLE"
    UNAUTHORIZED_DEPLOYER = "UNAUTHORIZED_DEPLOYER"
    DEPLOYER_IS_AUTHOR = "DEPLOYER_IS_AUTHOR"
    DEPLOYER_IS_APPROVER = "DEPLOYER_IS_APPROVER"
    DEPLOY_APPROVER_CONFLICT = "DEPLOY_APPROVER_CONFLICT"
    DEPLOY_SELF_APPROVAL = "DEPLOY_SELF_APPROVAL"
    INSUFFICIENT_DEPLOY_APPROVALS = "INSUFFICIENT_DEPLOY_APPROVALS"
    NO_PROVENANCE = "NO_PROVENANCE"
    UNTRUSTED_BUILDER = "UNTRUSTED_BUILDER"
    FREEZE_WINDOW = "FREEZE_WINDOW"
    BREAK_GLASS = "BREAK_GLASS"
    BREAK_GLASS_DENIED = "BREAK_GLASS_DENIED"
    # any door
    MALFORMED_INPUT = "MALFORMED_INPUT"
    INTERNAL_ERROR = "INTERNAL_ERROR"


@dataclass(frozen=True, slots=True)
class RuleRef:
    """Where a rule was written: policy file, line and column (1-based), and its key path."""

    file: str
    line: int
    column: int
    path: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column} ({self.path})"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"file": self.file, "line": self.line, "column": self.column, "path": self.path}


@dataclass(frozen=True, slots=True)
class Finding:
    """One reason in a decision: a stable code, a one-line message, and what would satisfy it."""

    code: FindingCode
    severity: Severity
    message: str
    satisfy: str = ""
    rule: RuleRef | None = None
    people: tuple[str, ...] = ()
    commits: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (stable key order)."""
        return {
            "code": self.code.value,
            "severity": self.severity.value,
            "message": self.message,
            "satisfy": self.satisfy,
            "rule": self.rule.to_dict() if self.rule else None,
            "people": list(self.people),
            "commits": list(self.commits),
        }


@dataclass(frozen=True, slots=True)
class Counted:
    """A person whose evidence counted towards a rule."""

    rule: str  # the rule's key path, e.g. "branches.refs/heads/main.approvals"
    person: str
    evidence: str  # evidence id or source
    trust: str

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "rule": self.rule,
            "person": self.person,
            "evidence": self.evidence,
            "trust": self.trust,
        }


@dataclass(frozen=True, slots=True)
class Excluded:
    """Evidence or a person that did not count towards a rule, and why."""

    rule: str
    who: str  # person id, or the alias when it resolves to nobody
    reason: str

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"rule": self.rule, "who": self.who, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Decision:
    """The engine's answer: a verdict, the findings behind it, and who counted or did not."""

    verdict: Verdict
    subject: str
    findings: tuple[Finding, ...] = ()
    counted: tuple[Counted, ...] = ()
    excluded: tuple[Excluded, ...] = ()
    policy_digest: str = ""
    break_glass: bool = False

    @property
    def allowed(self) -> bool:
        """True for an allow."""
        return self.verdict is Verdict.ALLOW

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form; equal decisions give byte-identical canonical JSON."""
        return {
            "verdict": self.verdict.value,
            "subject": self.subject,
            "findings": [f.to_dict() for f in self.findings],
            "counted": [c.to_dict() for c in self.counted],
            "excluded": [e.to_dict() for e in self.excluded],
            "policy_digest": self.policy_digest,
            "break_glass": self.break_glass,
        }
