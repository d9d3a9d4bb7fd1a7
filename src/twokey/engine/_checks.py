"""Evidence every door judges the same way: required checks, and evidence that was rejected."""

from __future__ import annotations

__all__ = ["check_findings", "rejected_findings"]

from twokey.engine._cache import PolicyIndex
from twokey.engine._people import short
from twokey.model import CheckResult, Finding, FindingCode, RuleRef, Severity
from twokey.policy import CheckRule

# The evidence layer's refusal codes that have a finding of their own (the rest: malformed).
_REJECTED_CODES = {
    "UNKNOWN_SIGNER": FindingCode.UNKNOWN_SIGNER,
    "KEY_REVOKED": FindingCode.KEY_REVOKED,
    "KEY_EXPIRED": FindingCode.KEY_EXPIRED,
    # A forge door refuses these itself (a bot's review, the pull request author's own).
    "SERVICE_APPROVAL": FindingCode.SERVICE_APPROVAL,
    "SELF_APPROVAL": FindingCode.SELF_APPROVAL,
}


def rejected_findings(rejected: tuple[tuple[str, str], ...], where: RuleRef) -> list[Finding]:
    """Evidence the evidence layer could not accept, explained (it never counts)."""
    out = []
    for who, reason in sorted(set(rejected)):
        code = _REJECTED_CODES.get(reason.partition(":")[0], FindingCode.MALFORMED_INPUT)
        out.append(
            Finding(
                code,
                Severity.WARN,
                f"evidence from {who} was rejected: {reason}",
                "re-sign the evidence with a key registered in the policy",
                where,
                (who,),
            )
        )
    return out


def check_findings(
    index: PolicyIndex,
    checks: CheckRule,
    results: tuple[CheckResult, ...],
    repository: str,
    subject: str,
    what: str,
) -> list[Finding]:
    """Required checks must have passed for the exact content (invariant 13).

    Only results about ``subject`` (a tree id, or an artifact digest for deploys) of this
    repository, signed by one of ``checks.signers`` at an accepted trust level, are trusted;
    a status anyone could set counts for nothing. One trusted pass suffices (a re-run).
    """
    out = []
    if not subject:  # content unknown: nothing can prove a check passed for it (fail closed)
        results = ()
    for name in checks.names:
        trusted = [
            r.passed
            for r in results
            if r.name == name
            and r.subject == subject
            and r.repository == repository
            and index.principal_id(r.signer) in checks.signers
            and r.trust in checks.accept
        ]
        if any(trusted):
            continue
        ignored = sum(1 for r in results if r.name == name and r.subject == subject) - len(trusted)
        note = f" ({ignored} untrusted result(s) ignored)" if ignored else ""
        state = "failed" if trusted else "has no trusted passing result"
        out.append(
            Finding(
                FindingCode.CHECK_FAILED if trusted else FindingCode.CHECK_MISSING,
                Severity.DENY,
                f"check '{name}' {state} for {what} {_short_subject(subject)}{note}",
                f"a passing '{name}' result for this exact {what}, signed by "
                f"{', '.join(sorted(checks.signers)) or 'nobody (no signers configured)'}",
                checks.rule,
            )
        )
    return out


def _short_subject(subject: str) -> str:
    algo, sep, digest = subject.partition(":")
    return f"{algo}:{digest[:12]}" if sep else short(subject)
