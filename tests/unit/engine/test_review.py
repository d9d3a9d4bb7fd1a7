"""Who may close a break-glass exception after the fact (invariant 6, engine.evaluate_review)."""

from __future__ import annotations

import pytest

from tests.unit.engine.world import NOW, POLICY_YAML, email, key, policy
from twokey.engine import evaluate_review
from twokey.model import Alias, BreakGlassReview, FindingCode, Verdict


def _review(signer: Alias, verdict: str = "justified") -> BreakGlassReview:
    return BreakGlassReview(41, "ab" * 32, verdict, signer, NOW, "looked at it", "test")


@pytest.mark.parametrize(
    ("actor", "reviewer", "verdict", "code"),
    [
        (Alias.email(email("dave")), key("erin"), Verdict.ALLOW, None),
        (Alias.email(email("dave")), key("bob"), Verdict.ALLOW, None),  # any other person
        (Alias.email(email("dave")), key("dave"), Verdict.DENY, FindingCode.SELF_APPROVAL),
        (key("dave"), key("dave", 1), Verdict.DENY, FindingCode.SELF_APPROVAL),  # 2nd key
        (Alias.email(email("dave")), key("ci"), Verdict.DENY, FindingCode.SERVICE_APPROVAL),
        (
            Alias.email(email("dave")),
            key("mallory"),
            Verdict.DENY,
            FindingCode.UNKNOWN_SIGNER,
        ),
        (Alias.email("stranger@else.example"), key("erin"), Verdict.ALLOW, None),
    ],
    ids=[
        "someone-else",
        "any-other-person",
        "the-actor-himself",
        "the-actor-under-another-key",
        "a-service",
        "an-unknown-key",
        "unknown-actor-reviewed-by-a-person",
    ],
)
def test_who_may_close_a_break_glass(
    actor: Alias, reviewer: Alias, verdict: Verdict, code: FindingCode | None
) -> None:
    decision = evaluate_review(policy(), actor, _review(reviewer))
    assert decision.verdict is verdict
    assert [f.code for f in decision.findings] == ([code] if code else [])
    if verdict is Verdict.ALLOW:
        assert decision.counted[0].person in {"erin", "bob"}


def test_an_unjustified_verdict_still_closes_the_exception() -> None:
    actor = Alias.email(email("dave"))
    assert evaluate_review(policy(), actor, _review(key("erin"), "unjustified")).allowed


def test_a_review_verdict_is_one_of_two() -> None:
    with pytest.raises(ValueError, match="verdict"):
        _review(key("erin"), "fine")


def test_the_policy_may_name_who_reviews_break_glass() -> None:
    actor = Alias.email(email("dave"))
    strict = policy(POLICY_YAML + "break_glass_reviewers: [admins]\n")
    assert evaluate_review(strict, actor, _review(key("erin"))).allowed  # erin is an admin
    refused = evaluate_review(strict, actor, _review(key("bob")))
    assert [f.code for f in refused.findings] == [FindingCode.NOT_AN_APPROVER]
    assert "bob is not among the break-glass reviewers (erin, frank)" in refused.findings[0].message
    # the actor stays excluded even when listed
    admin = Alias.email(email("erin"))
    assert not evaluate_review(strict, admin, _review(key("erin"))).allowed
