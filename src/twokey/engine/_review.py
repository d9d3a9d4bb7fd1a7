"""After-the-fact review of a break-glass (invariant 6): who may close the exception.

A break-glass stays an open exception until *someone else* reviews it: a person (a service
never counts as the other person, invariant 10) who is not the one who broke glass, under any
alias, and one of the policy's ``break_glass_reviewers`` when it names them. Whether the
review found it justified does not matter here; either verdict closes the exception, and the
reports show which.
"""

from __future__ import annotations

__all__ = ["evaluate_review"]

from twokey.model import (
    Alias,
    BreakGlassReview,
    Counted,
    Decision,
    Finding,
    FindingCode,
    PrincipalKind,
    Severity,
    Verdict,
)
from twokey.policy import Policy


def evaluate_review(policy: Policy, actor: Alias, review: BreakGlassReview) -> Decision:
    """Does ``review`` close the break-glass that ``actor`` used? Pure, like :func:`evaluate`."""
    subject = f"break-glass review of ledger entry {review.entry}"
    reviewer = policy.resolve(review.signer)
    broke = policy.resolve(actor)
    who = reviewer.id if reviewer is not None else str(review.signer)
    if reviewer is None:
        return _deny(
            subject,
            FindingCode.UNKNOWN_SIGNER,
            f"the review by {who} does not count: the key belongs to nobody in the policy",
            "a review signed by a person's registered key",
            policy,
        )
    if reviewer.kind is not PrincipalKind.PERSON:
        return _deny(
            subject,
            FindingCode.SERVICE_APPROVAL,
            f"the review by {who} does not count: {who} is a service, not a person",
            "a review by a person",
            policy,
        )
    if (broke is not None and broke.id == reviewer.id) or str(actor) == who:
        return _deny(
            subject,
            FindingCode.SELF_APPROVAL,
            f"the review by {who} does not count: {who} broke the glass",
            "a review by someone other than the one who broke glass",
            policy,
        )
    allowed = policy.break_glass_reviewers
    if allowed is not None and reviewer.id not in allowed:
        return _deny(
            subject,
            FindingCode.NOT_AN_APPROVER,
            f"the review by {who} does not count: {who} is not among the break-glass reviewers "
            f"({', '.join(sorted(allowed))})",
            "a review by one of the policy's break_glass_reviewers",
            policy,
        )
    counted = Counted("break_glass_review", who, review.evidence_id or review.source, "signed")
    return Decision(Verdict.ALLOW, subject, counted=(counted,), policy_digest=policy.digest)


def _deny(subject: str, code: FindingCode, message: str, satisfy: str, policy: Policy) -> Decision:
    finding = Finding(code, Severity.DENY, message, satisfy)
    return Decision(Verdict.DENY, subject, (finding,), policy_digest=policy.digest)
