"""Decisions a door makes itself, before or around the engine (fail closed, invariant 8)."""

from __future__ import annotations

__all__ = ["add_finding", "door_allow", "door_deny"]

from dataclasses import replace

from twokey.model import Decision, Finding, FindingCode, Severity, Verdict


def door_deny(
    subject: str, code: FindingCode, message: str, satisfy: str, policy_digest: str = ""
) -> Decision:
    """A deny with one finding, for what the engine cannot judge (no policy, broken git)."""
    finding = Finding(code, Severity.DENY, message, satisfy)
    return Decision(Verdict.DENY, subject, (finding,), policy_digest=policy_digest)


def door_allow(subject: str, message: str, policy_digest: str = "") -> Decision:
    """An allow with one info finding (an evidence ref created: append-only, always allowed)."""
    finding = Finding(FindingCode.UNPROTECTED_REF, Severity.INFO, message)
    return Decision(Verdict.ALLOW, subject, (finding,), policy_digest=policy_digest)


def add_finding(decision: Decision, finding: Finding) -> Decision:
    """``decision`` with one more finding; a deny finding turns it into a deny."""
    verdict = Verdict.DENY if finding.severity is Severity.DENY else decision.verdict
    return replace(decision, verdict=verdict, findings=(*decision.findings, finding))
