"""The payloads twokey sends a forge: a status within GitHub's limits, findings named."""

from __future__ import annotations

import pytest

from twokey.forge import CommitStatus, DeploymentReview, summary
from twokey.model import Decision, Finding, FindingCode, Severity, Verdict


def _deny(*codes: FindingCode, message: str = "main needs 1 approval(s)") -> Decision:
    findings = tuple(Finding(c, Severity.DENY, message) for c in codes)
    return Decision(Verdict.DENY, "s", findings)


def test_the_summary_names_every_deny_code_once_and_the_first_reason() -> None:
    text = summary(_deny(FindingCode.INSUFFICIENT_APPROVALS, FindingCode.SELF_APPROVAL))
    assert text == "denied: INSUFFICIENT_APPROVALS, SELF_APPROVAL: main needs 1 approval(s)"
    assert summary(Decision(Verdict.ALLOW, "s")) == "allowed: separation of duties holds"


def test_a_long_summary_is_cut_to_githubs_limit() -> None:
    text = summary(_deny(FindingCode.INSUFFICIENT_APPROVALS, message="x" * 500))
    assert len(text) == 140
    assert text.endswith("…")
    CommitStatus("github", "o/r", "a" * 40, "failure", text, "https://t")  # accepted


@pytest.mark.parametrize(
    ("state", "description", "error"),
    [("ok", "d", "state must be one of"), ("success", "d" * 141, "over 140 characters")],
)
def test_a_status_github_would_refuse_is_never_built(
    state: str, description: str, error: str
) -> None:
    with pytest.raises(ValueError, match=error):
        CommitStatus("github", "o/r", "a" * 40, state, description, "https://t")


def test_request_bodies_are_the_documented_ones() -> None:
    status = CommitStatus("gitlab", "g/p", "a" * 40, "error", "d", "https://t")
    assert status.gitlab_body() == {
        "state": "failed",
        "name": "twokey/separation-of-duties",
        "target_url": "https://t",
        "description": "d",
    }
    review = DeploymentReview("github", "o/r", "7", "production", False, "NO_PROVENANCE", "u")
    assert review.github_body() == {
        "environment_name": "production",
        "state": "rejected",
        "comment": "NO_PROVENANCE",
    }
    assert review.gitlab_body() == {"status": "rejected", "comment": "NO_PROVENANCE"}
