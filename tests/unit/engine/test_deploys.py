"""Deploy requests: invariant 5, freeze windows and break-glass."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tests.unit.engine.world import MAIN, NOW, POLICY_YAML, REPO, approve, commit, key, policy
from twokey.engine import evaluate, explain
from twokey.model import (
    BreakGlass,
    BuildProvenance,
    DeployApproval,
    DeployFacts,
    DeployRequest,
    FindingCode,
    Verdict,
)

POLICY = policy()
ARTIFACT = "sha256:" + "ab" * 32
RELEASE = (commit("r1", "alice"), commit("r2", "bob", co_authors=("carol",)))
HEAD = RELEASE[-1]
FRIDAY_NIGHT = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)


def request(deployer: str = "ci", **kw: object) -> DeployRequest:
    base = DeployRequest(
        "d1", REPO, "production", ARTIFACT, HEAD.sha, key("bob"), key(deployer), NOW
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def facts(
    req: DeployRequest | None = None,
    *,
    approvers: tuple[str, ...] = ("dave",),
    builder: str = "ci",
    refs: tuple[str, ...] = (MAIN,),
) -> DeployFacts:
    return DeployFacts(
        req or request(),
        refs,
        RELEASE,
        (approve("erin", HEAD),),
        (BuildProvenance(ARTIFACT, REPO, HEAD.sha, key(builder), NOW),),
        tuple(
            DeployApproval(ARTIFACT, "production", HEAD.sha, key(a), NOW, repository=REPO)
            for a in approvers
        ),
    )


CASES = {
    "approved-by-operator": (facts(), NOW, Verdict.ALLOW, None, ""),
    "unknown-environment": (
        facts(request(environment="moon")),
        NOW,
        Verdict.DENY,
        FindingCode.UNKNOWN_ENVIRONMENT,
        "environment 'moon' is not",
    ),
    "not-from-main": (
        facts(refs=("refs/heads/feature",)),
        NOW,
        Verdict.DENY,
        FindingCode.REF_NOT_DEPLOYABLE,
        "is not on refs/heads/main",
    ),
    "unauthorized-deployer": (
        facts(request("alice")),
        NOW,
        Verdict.DENY,
        FindingCode.UNAUTHORIZED_DEPLOYER,
        "alice may not deploy",
    ),
    "deployer-is-approver": (
        facts(request("erin"), approvers=("dave",)),
        NOW,
        Verdict.DENY,
        FindingCode.UNAUTHORIZED_DEPLOYER,
        "erin may not deploy",
    ),
    "approver-wrote-release": (
        facts(approvers=("bob",)),
        NOW,
        Verdict.DENY,
        FindingCode.NOT_AN_APPROVER,
        "bob is not among the approvers",
    ),
    "approver-approved-release": (
        facts(approvers=("erin",)),
        NOW,
        Verdict.DENY,
        FindingCode.DEPLOY_APPROVER_CONFLICT,
        "erin is an approver of",
    ),
    "no-deploy-approval": (
        facts(approvers=()),
        NOW,
        Verdict.DENY,
        FindingCode.INSUFFICIENT_DEPLOY_APPROVALS,
        "needs 1 approval(s)",
    ),
    "untrusted-builder": (
        facts(builder="alice"),
        NOW,
        Verdict.DENY,
        FindingCode.UNTRUSTED_BUILDER,
        "was built by alice, not a trusted builder",
    ),
    "freeze": (
        facts(),
        FRIDAY_NIGHT,
        Verdict.DENY,
        FindingCode.FREEZE_WINDOW,
        "production is frozen (Fri 16:00 - Mon 08:00 Europe/Berlin)",
    ),
    "deployer-approved-own-deploy": (
        facts(request("dave"), approvers=("dave",)),
        NOW,
        Verdict.DENY,
        FindingCode.DEPLOY_SELF_APPROVAL,
        "deploy approval by dave does not count for deploy of sha256:abababababab to "
        "production: dave is the deployer",
    ),
    "requester-approved-own-deploy": (
        facts(request(requester=key("dave")), approvers=("dave",)),
        NOW,
        Verdict.DENY,
        FindingCode.DEPLOY_SELF_APPROVAL,
        "dave is the requester",
    ),
    "another-operator-approves-the-deployers-deploy": (
        facts(request("dave"), approvers=("dave", "frank")),
        NOW,
        Verdict.ALLOW,
        FindingCode.DEPLOY_SELF_APPROVAL,
        "dave is the deployer",
    ),
    "approval-for-another-repository": (
        replace(
            facts(approvers=()),
            deploy_approvals=(
                DeployApproval(
                    ARTIFACT, "production", HEAD.sha, key("dave"), NOW, repository="other/shop"
                ),
            ),
        ),
        NOW,
        Verdict.DENY,
        FindingCode.INSUFFICIENT_DEPLOY_APPROVALS,
        "0 counted",
    ),
    "break-glass-in-freeze": (
        facts(request(break_glass=BreakGlass(key("dave"), "prod is down", FRIDAY_NIGHT))),
        FRIDAY_NIGHT,
        Verdict.ALLOW,
        FindingCode.BREAK_GLASS,
        "break-glass by dave: prod is down",
    ),
}


@pytest.mark.parametrize(
    ("facts_", "now", "verdict", "code", "message"), CASES.values(), ids=CASES.keys()
)
def test_deploy(
    facts_: DeployFacts, now: datetime, verdict: Verdict, code: FindingCode | None, message: str
) -> None:
    decision = evaluate(POLICY, facts_, now)
    assert decision.verdict is verdict, explain(decision)
    if code is not None:
        found = {f.code: f.message for f in decision.findings}
        assert code in found, explain(decision)
        assert message in found[code]


def test_no_provenance() -> None:
    decision = evaluate(POLICY, replace(facts(), provenance=()), NOW)
    assert [f.code for f in decision.findings if f.code is FindingCode.NO_PROVENANCE]
    assert "has no build provenance for commit" in explain(decision)


def test_person_deployer_who_wrote_the_release() -> None:
    text = POLICY.source
    assert text == "policy.yml"
    wide = policy(open_policy_with_deployers("[operators, developers, ci]"))
    decision = evaluate(wide, facts(request("alice")), NOW)
    assert FindingCode.DEPLOYER_IS_AUTHOR in {f.code for f in decision.findings}


def open_policy_with_deployers(deployers: str) -> str:
    return POLICY_YAML.replace("deployers: [operators, ci]", f"deployers: {deployers}")


def test_break_glass_marks_the_decision() -> None:
    glass = BreakGlass(key("dave"), "prod is down", FRIDAY_NIGHT)
    decision = evaluate(POLICY, facts(request(break_glass=glass)), FRIDAY_NIGHT)
    assert decision.break_glass
    assert "BREAK-GLASS" in explain(decision)


@pytest.mark.parametrize(
    ("deploy", "role"),
    [(request("dave"), "the deployer"), (request(requester=key("dave")), "the requester")],
    ids=["deployer", "requester"],
)
def test_the_missing_approval_names_the_deployer_and_requester_as_such(
    deploy: DeployRequest, role: str
) -> None:
    """Not 'the pusher of this change': a deploy has a deployer and a requester."""
    decision = evaluate(POLICY, facts(deploy, approvers=("dave",)), NOW)
    [missing] = [
        f for f in decision.findings if f.code is FindingCode.INSUFFICIENT_DEPLOY_APPROVALS
    ]
    assert f"not from dave ({role})" in missing.satisfy
    assert "pusher" not in explain(decision)
