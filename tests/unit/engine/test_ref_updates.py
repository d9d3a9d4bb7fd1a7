"""Ref updates: one case per finding code, asserting the code, the verdict and the message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.unit.engine.world import (
    MAIN,
    NOW,
    approve,
    change,
    commit,
    key,
    passing_tests,
    policy,
    sha,
)
from twokey.engine import decision_json, evaluate, explain
from twokey.model import (
    ZERO_SHA,
    Alias,
    BreakGlass,
    Change,
    Commit,
    Decision,
    FindingCode,
    Landing,
    RefUpdateFacts,
    Severity,
    TrustLevel,
    Verdict,
)

POLICY = policy()
A1 = commit("a1", "alice")
A2 = commit("a2", "alice", parents=(A1.sha,))
DEPLOY = commit("deploy", "bob", paths=("deploy/prod.yml",))
POLICY_EDIT = commit("policy", "erin", paths=(".twokey/policy.yml",))


@dataclass(frozen=True)
class Case:
    facts: Callable[[], RefUpdateFacts]
    verdict: Verdict
    code: FindingCode | None
    message: str


def ok(
    target: Commit, *approvers: str, update: Change | None = None
) -> Callable[[], RefUpdateFacts]:
    """Facts: ``target`` lands with tests passing and ``approvers``' approvals."""
    return lambda: RefUpdateFacts(
        update or change(target),
        tuple(approve(p, target) for p in approvers),
        (passing_tests(target),),
    )


CASES = {
    "approved-by-reviewer": Case(ok(A1, "bob"), Verdict.ALLOW, None, ""),
    "unprotected-ref": Case(
        lambda: RefUpdateFacts(change(A1, ref="refs/heads/feature")),
        Verdict.ALLOW,
        FindingCode.UNPROTECTED_REF,
        "refs/heads/feature is not protected",
    ),
    "no-approval": Case(
        lambda: RefUpdateFacts(change(A1), (), (passing_tests(A1),)),
        Verdict.DENY,
        FindingCode.INSUFFICIENT_APPROVALS,
        "refs/heads/main needs 1 approval(s) from reviewers, admins; 0 counted",
    ),
    "self-approval": Case(
        ok(A1, "alice"),
        Verdict.DENY,
        FindingCode.NOT_AN_APPROVER,
        "alice is not among the approvers",
    ),
    "self-approval-by-admin-author": Case(
        ok(commit("e1", "erin"), "erin"),
        Verdict.DENY,
        FindingCode.SELF_APPROVAL,
        "erin is an author of",
    ),
    "approval-by-alias-of-author": Case(
        lambda: RefUpdateFacts(
            change(commit("b1", "bob@home.example")),
            (approve("bob", commit("b1", "bob@home.example"), index=1),),
            (passing_tests(commit("b1", "bob@home.example")),),
        ),
        Verdict.DENY,
        FindingCode.SELF_APPROVAL,
        "bob is an author of",
    ),
    "co-author-excluded": Case(
        ok(commit("c1", "alice", co_authors=("bob",)), "bob"),
        Verdict.DENY,
        FindingCode.SELF_APPROVAL,
        "bob is a co-author of",
    ),
    "agent-director-excluded": Case(
        lambda: RefUpdateFacts(
            change(commit("g1", "agent@example.com")),
            (approve("bob", commit("g1", "agent@example.com")),),
            (passing_tests(commit("g1", "agent@example.com")),),
        ),
        Verdict.DENY,
        FindingCode.SELF_APPROVAL,
        "bob is an author of",
    ),
    "last-pusher-excluded": Case(
        ok(A1, "bob", update=change(A1, pusher="bob")),
        Verdict.DENY,
        FindingCode.SELF_APPROVAL,
        "bob is the pusher of this change",
    ),
    "unknown-pusher-fails-closed": Case(  # the rule excludes the last pusher: who is it?
        ok(A1, "bob", update=change(A1, pusher=None)),
        Verdict.DENY,
        FindingCode.UNKNOWN_PUSHER,
        "the policy excludes the last pusher from approving, but the transport did not say",
    ),
    "not-an-approver": Case(
        ok(A1, "dave"),
        Verdict.DENY,
        FindingCode.NOT_AN_APPROVER,
        "dave is not among the approvers (reviewers, admins)",
    ),
    "service-approval": Case(
        lambda: RefUpdateFacts(change(A1), (approve("ci", A1),), (passing_tests(A1),)),
        Verdict.DENY,
        FindingCode.SERVICE_APPROVAL,
        "ci is a service, not a person",
    ),
    "unknown-signer": Case(
        lambda: RefUpdateFacts(change(A1), (approve("mallory", A1),), (passing_tests(A1),)),
        Verdict.DENY,
        FindingCode.UNKNOWN_SIGNER,
        "the signer is not registered",
    ),
    "untrusted-trailer": Case(
        lambda: RefUpdateFacts(
            change(A1),
            (approve("bob", A1, trust=TrustLevel.TRAILER, signer=Alias.email("bob@example.com")),),
            (passing_tests(A1),),
        ),
        Verdict.DENY,
        FindingCode.UNTRUSTED_EVIDENCE,
        "trailer evidence is not accepted",
    ),
    "stale-approval": Case(
        lambda: RefUpdateFacts(change(A1, A2), (approve("bob", A1),), (passing_tests(A2),)),
        Verdict.DENY,
        FindingCode.STALE_APPROVAL,
        f"covers {A1.sha[:7]} but new content landed after it",
    ),
    "replay-other-repo": Case(
        lambda: RefUpdateFacts(
            change(A1), (approve("bob", A1, repo="other/repo"),), (passing_tests(A1),)
        ),
        Verdict.DENY,
        FindingCode.EVIDENCE_MISMATCH,
        "is for other/repo refs/heads/main",
    ),
    "force-push": Case(
        ok(A1, "bob", update=change(A1, fast_forward=False)),
        Verdict.DENY,
        FindingCode.FORCE_PUSH,
        "refs/heads/main would be rewritten",
    ),
    "deletion": Case(
        lambda: RefUpdateFacts(change(A1).__class__("example.com/shop", MAIN, sha("x"), ZERO_SHA)),
        Verdict.DENY,
        FindingCode.REF_DELETION,
        "refs/heads/main may not be deleted",
    ),
    "squash-of-approved-tree": Case(
        lambda: RefUpdateFacts(
            change(commit("squash", "alice", tree=A2.tree)),
            (approve("bob", A2),),
            (passing_tests(A2),),
            landings=(Landing(A2.sha, A2.tree, A2.tree),),
        ),
        Verdict.ALLOW,
        None,
        "",
    ),
    "clean-merge-of-approved-branch": Case(
        lambda: RefUpdateFacts(
            change(A1, commit("m", "carol", parents=(sha("main"), A1.sha), clean_merge=True)),
            (approve("bob", A1),),
            (passing_tests(commit("m", "carol", parents=(sha("main"), A1.sha), clean_merge=True)),),
            landings=(Landing(A1.sha, A1.tree, sha("tree-m")),),
        ),
        Verdict.ALLOW,
        None,
        "",
    ),
    "unclean-merge": Case(
        lambda: RefUpdateFacts(
            change(commit("m2", "carol", parents=(sha("main"), A1.sha), clean_merge=False)),
            (
                approve(
                    "bob", commit("m2", "carol", parents=(sha("main"), A1.sha), clean_merge=False)
                ),
            ),
            (
                passing_tests(
                    commit("m2", "carol", parents=(sha("main"), A1.sha), clean_merge=False)
                ),
            ),
        ),
        Verdict.DENY,
        FindingCode.UNCLEAN_MERGE,
        "is not the clean merge of its parents",
    ),
    "owner-approval-missing": Case(
        ok(DEPLOY, "erin"),
        Verdict.DENY,
        FindingCode.OWNER_APPROVAL_MISSING,
        "(deploy/**: deploy/prod.yml) needs 1 approval(s) from carol",
    ),
    "owner-approved": Case(ok(DEPLOY, "carol"), Verdict.ALLOW, None, ""),
    "policy-change-one-admin": Case(
        ok(POLICY_EDIT, "frank"),
        Verdict.DENY,
        FindingCode.POLICY_CHANGE_UNAPPROVED,
        "the policy change (.twokey/policy.yml) needs 2 approval(s) from admins; 1 counted",
    ),
    "policy-change-two-admins": Case(ok(POLICY_EDIT, "frank", "erin"), Verdict.ALLOW, None, ""),
    "check-missing": Case(
        lambda: RefUpdateFacts(change(A1), (approve("bob", A1),)),
        Verdict.DENY,
        FindingCode.CHECK_MISSING,
        "check 'tests' has no trusted passing result",
    ),
    "check-failed": Case(
        lambda: RefUpdateFacts(
            change(A1), (approve("bob", A1),), (passing_tests(A1, passed=False),)
        ),
        Verdict.DENY,
        FindingCode.CHECK_FAILED,
        "check 'tests' failed",
    ),
    "check-by-untrusted-signer": Case(
        lambda: RefUpdateFacts(
            change(A1), (approve("bob", A1),), (passing_tests(A1, signer="alice"),)
        ),
        Verdict.DENY,
        FindingCode.CHECK_MISSING,
        "has no trusted passing result",
    ),
    "too-few-eligible": Case(
        lambda: RefUpdateFacts(
            change(commit("r1", "bob", co_authors=("carol",)), ref="refs/heads/release/1"), ()
        ),
        Verdict.DENY,
        FindingCode.TOO_FEW_ELIGIBLE,
        "only 0 eligible approver(s) left",
    ),
    "break-glass": Case(
        lambda: RefUpdateFacts(
            change(A1), (), (), (), BreakGlass(key("erin"), "prod down, hotfix", NOW)
        ),
        Verdict.ALLOW,
        FindingCode.BREAK_GLASS,
        "break-glass by erin: prod down, hotfix",
    ),
    "break-glass-not-allowed": Case(
        lambda: RefUpdateFacts(change(A1), (), (), (), BreakGlass(key("alice"), "trust me", NOW)),
        Verdict.DENY,
        FindingCode.BREAK_GLASS_DENIED,
        "break-glass refused: alice is not allowed",
    ),
    "break-glass-without-reason": Case(
        lambda: RefUpdateFacts(change(A1), (), (), (), BreakGlass(key("erin"), "  ", NOW)),
        Verdict.DENY,
        FindingCode.BREAK_GLASS_DENIED,
        "break-glass refused: erin gave no reason",
    ),
    "rejected-evidence": Case(
        lambda: RefUpdateFacts(
            change(A1),
            (approve("bob", A1),),
            (passing_tests(A1),),
            (("key:ssh-ed25519 AAAA", "UNKNOWN_SIGNER: not registered"),),
        ),
        Verdict.ALLOW,
        FindingCode.UNKNOWN_SIGNER,
        "evidence from key:ssh-ed25519 AAAA was rejected",
    ),
}


def _codes(decision: Decision) -> dict[FindingCode, str]:
    return {f.code: f.message for f in decision.findings}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_ref_update(case: Case) -> None:
    decision = evaluate(POLICY, case.facts(), NOW)
    assert decision.verdict is case.verdict, explain(decision)
    if case.code is not None:
        codes = _codes(decision)
        assert case.code in codes, explain(decision)
        assert case.message in codes[case.code]
    else:
        assert all(f.severity is not Severity.DENY for f in decision.findings)


def test_two_keys_of_one_person_count_once() -> None:
    facts = RefUpdateFacts(
        change(POLICY_EDIT),
        (approve("frank", POLICY_EDIT), approve("frank", POLICY_EDIT, index=1)),
        (passing_tests(POLICY_EDIT),),
    )
    decision = evaluate(POLICY, facts, NOW)
    assert FindingCode.POLICY_CHANGE_UNAPPROVED in _codes(decision)
    assert [c.person for c in decision.counted if c.rule == "policy_changes.approvals"] == ["frank"]


def test_break_glass_never_excuses_a_force_push() -> None:
    facts = RefUpdateFacts(
        change(A1, fast_forward=False), (), (), (), BreakGlass(key("erin"), "urgent", NOW)
    )
    decision = evaluate(POLICY, facts, NOW)
    assert decision.verdict is Verdict.DENY
    assert next(f for f in decision.findings if f.code is FindingCode.FORCE_PUSH).severity is (
        Severity.DENY
    )


def test_findings_name_the_rule_and_how_to_satisfy() -> None:
    decision = evaluate(POLICY, RefUpdateFacts(change(A1), (approve("alice", A1),)), NOW)
    missing = next(f for f in decision.findings if f.code is FindingCode.INSUFFICIENT_APPROVALS)
    assert missing.rule is not None
    assert (missing.rule.file, missing.rule.path) == (
        "policy.yml",
        "branches.refs/heads/main.approvals",
    )
    assert missing.satisfy == "1 more approval(s) from reviewers, admins (bob, carol, erin, frank)"
    text = explain(decision)
    for part in ("INSUFFICIENT_APPROVALS", "to satisfy:", "policy.yml:"):
        assert part in text


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(POLICY, RefUpdateFacts(change(A1)), NOW.replace(tzinfo=None))


def test_same_inputs_same_bytes() -> None:
    facts = CASES["stale-approval"].facts()
    assert decision_json(evaluate(POLICY, facts, NOW)) == decision_json(
        evaluate(POLICY, facts, NOW)
    )
