"""Edge cases of the engine: failing closed, quiet secondary rules, content binding details."""

from __future__ import annotations

import gc
import weakref
from dataclasses import replace

import pytest

from tests.unit.engine._builders import PolicyBuilder, approval, checks
from tests.unit.engine.world import (
    NOW,
    approve,
    change,
    commit,
    key,
    passing_tests,
    policy,
    sha,
)
from twokey.engine import evaluate, evaluate_safely, explain
from twokey.engine._cache import PolicyIndex, index_of
from twokey.model import (
    Alias,
    BreakGlass,
    Decision,
    FindingCode,
    RefUpdateFacts,
    Severity,
    Verdict,
)
from twokey.policy import Exclusion

POLICY = policy()
A1 = commit("a1", "alice")
A2 = commit("a2", "alice", parents=(A1.sha,))
DEPLOY = commit("deploy", "alice", paths=("deploy/prod.yml",))


def _messages(decision: Decision, code: FindingCode) -> list[str]:
    return [f.message for f in decision.findings if f.code is code]


MALFORMED = {
    "naive-now": (
        lambda: evaluate_safely(POLICY, RefUpdateFacts(change(A1)), NOW.replace(tzinfo=None)),
        "malformed input: ValueError: now must be timezone-aware",
    ),
    "rejected-evidence": (
        lambda: evaluate(
            POLICY,
            RefUpdateFacts(change(A1), (), (), (("key:ssh-ed25519 AAAA", "bad signature"),)),
            NOW,
        ),
        "evidence from key:ssh-ed25519 AAAA was rejected: bad signature",
    ),
}


@pytest.mark.parametrize(("decide", "message"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_input(decide: object, message: str) -> None:
    assert callable(decide)
    decision = decide()
    assert decision.verdict is Verdict.DENY
    assert message in _messages(decision, FindingCode.MALFORMED_INPUT)


def test_an_exception_inside_is_a_deny_never_an_allow() -> None:
    broken = replace(POLICY, refs=None)  # type: ignore[arg-type]
    decision = evaluate_safely(broken, RefUpdateFacts(change(A1)), NOW)
    assert decision.verdict is Verdict.DENY
    assert [f.code for f in decision.findings] == [FindingCode.INTERNAL_ERROR]
    assert decision.findings[0].message.startswith("internal error while deciding: TypeError")
    assert decision.subject == f"refs/heads/main {sha('old')[:7]}..{A1.sha[:7]}"


def test_a_reviewer_who_is_not_a_path_owner_is_no_finding() -> None:
    facts = RefUpdateFacts(
        change(DEPLOY), (approve("bob", DEPLOY), approve("carol", DEPLOY)), (passing_tests(DEPLOY),)
    )
    decision = evaluate(POLICY, facts, NOW)
    assert decision.verdict is Verdict.ALLOW, explain(decision)
    assert decision.findings == ()
    owners = [c.person for c in decision.counted if ".owners." in c.rule]
    assert owners == ["carol"]


def test_missing_owner_names_the_paths_and_who_would_satisfy() -> None:
    facts = RefUpdateFacts(change(DEPLOY), (approve("bob", DEPLOY),), (passing_tests(DEPLOY),))
    decision = evaluate(POLICY, facts, NOW)
    [finding] = [f for f in decision.findings if f.code is FindingCode.OWNER_APPROVAL_MISSING]
    assert finding.message == (
        "refs/heads/main (deploy/**: deploy/prod.yml) needs 1 approval(s) from carol; 0 counted"
    )
    assert finding.satisfy == "1 more approval(s) from carol (carol)"
    assert finding.rule is not None
    assert finding.rule.path == "branches.refs/heads/main.owners.deploy/**.approvals"


def test_satisfy_says_who_may_not_approve_and_why() -> None:
    target = commit("b1", "bob")
    decision = evaluate(POLICY, RefUpdateFacts(change(target), (), (passing_tests(target),)), NOW)
    [finding] = [f for f in decision.findings if f.code is FindingCode.INSUFFICIENT_APPROVALS]
    assert finding.satisfy == (
        "1 more approval(s) from reviewers, admins (carol, erin, frank), "
        f"not from bob (an author of {target.sha[:7]})"
    )


def test_too_few_eligible_points_to_break_glass() -> None:
    target = commit("r1", "bob", co_authors=("carol",))
    decision = evaluate(POLICY, RefUpdateFacts(change(target, ref="refs/heads/release/1")), NOW)
    [finding] = [f for f in decision.findings if f.code is FindingCode.TOO_FEW_ELIGIBLE]
    assert finding.message == (
        "refs/heads/release/1: only 0 eligible approver(s) left for 2 more approval(s)"
    )
    assert "break-glass" in finding.satisfy
    assert "invariant 12" in finding.satisfy


REPLAYS = {
    "other-ref": (
        lambda: approve("bob", A1, ref="refs/heads/dev"),
        "approval by bob is for example.com/shop refs/heads/dev, not example.com/shop "
        "refs/heads/main",
    ),
    "other-content": (
        lambda: approve("bob", commit("elsewhere", "carol")),
        f"approval by bob is for {sha('elsewhere')[:7]}, content this update does not bring",
    ),
    "unknown-signer-named-by-alias": (
        lambda: approve("bob", A1, ref="refs/heads/dev", signer=Alias.email("x@evil.example")),
        "approval by email:x@evil.example is for example.com/shop refs/heads/dev",
    ),
}


@pytest.mark.parametrize(("make", "message"), REPLAYS.values(), ids=REPLAYS.keys())
def test_evidence_for_something_else_never_counts(make: object, message: str) -> None:
    assert callable(make)
    decision = evaluate(POLICY, RefUpdateFacts(change(A1), (make(),), (passing_tests(A1),)), NOW)
    assert decision.verdict is Verdict.DENY
    assert any(message in m for m in _messages(decision, FindingCode.EVIDENCE_MISMATCH))
    assert not decision.counted


def test_a_stale_approval_is_no_warning_once_the_same_person_approved_the_head() -> None:
    facts = RefUpdateFacts(
        change(A1, A2), (approve("bob", A1), approve("bob", A2)), (passing_tests(A2),)
    )
    decision = evaluate(POLICY, facts, NOW)
    assert decision.verdict is Verdict.ALLOW
    assert decision.findings == ()


def test_without_a_known_tree_only_the_commit_binds() -> None:
    unknown_tree = replace(change(A1), new_tree="")
    blank = replace(approve("bob", A1), tree="", commit=sha("other"))
    decision = evaluate(POLICY, RefUpdateFacts(unknown_tree, (blank,), (passing_tests(A1),)), NOW)
    assert decision.verdict is Verdict.DENY
    assert not decision.counted
    assert _messages(decision, FindingCode.CHECK_MISSING)


def test_break_glass_turns_denies_into_marked_warnings() -> None:
    glass = BreakGlass(key("erin"), "prod down, hotfix", NOW)
    decision = evaluate(POLICY, RefUpdateFacts(change(A1), (), (), (), glass), NOW)
    assert decision.verdict is Verdict.ALLOW
    assert decision.break_glass
    missing = [f for f in decision.findings if f.code is FindingCode.INSUFFICIENT_APPROVALS]
    assert missing[0].severity is Severity.WARN
    assert missing[0].message.endswith("[overridden by break-glass]")
    [mark] = [f for f in decision.findings if f.code is FindingCode.BREAK_GLASS]
    assert mark.message == "break-glass by erin: prod down, hotfix"
    assert "someone other than the actor reviews it" in mark.satisfy


def test_code_built_policy_and_its_index_are_dropped_together() -> None:
    built = (
        PolicyBuilder()
        .person("ann", Alias.email("ann@example.com"))
        .person("ben", Alias.email("ben@example.com"))
        .service("ci", key("ci"))
        .branch(
            "refs/heads/main",
            approval(1, ["ben"], "branches.main.approvals", exclude=[Exclusion.AUTHORS]),
            checks=checks("tests"),
        )
        .build(["ann", "ben"])
    )
    index = index_of(built)
    assert index_of(built) is index  # built once per policy object
    assert index_of(replace(built)) is not index  # an equal copy has its own
    assert built.memo == {PolicyIndex: index}
    gone = weakref.ref(index)
    del built, index
    gc.collect()
    assert gone() is None  # nothing global holds it: it went with its policy


def test_code_built_policy_decides_like_a_loaded_one() -> None:
    built = (
        PolicyBuilder()
        .person("alice", Alias.email("alice@example.com"))
        .person("bob", key("bob"))
        .service("ci", key("ci"))
        .branch(
            "refs/heads/main",
            approval(1, ["bob"], "branches.main.approvals"),
            checks=checks("tests"),
        )
        .build(["alice", "bob"])
    )
    ok = RefUpdateFacts(change(A1), (approve("bob", A1),), (passing_tests(A1),))
    assert evaluate(built, ok, NOW).verdict is Verdict.ALLOW
    own = commit("own", "bob@example.com")
    facts = RefUpdateFacts(change(own), (approve("bob", own),), (passing_tests(own),))
    # bob's email is not registered in this policy: the author is nobody the policy knows,
    # which denies (ADR 0012) unless the rule lets outside contributors in; then bob may
    # approve. With the email registered he is the author and may not.
    stranger = evaluate(built, facts, NOW)
    assert [f.code for f in stranger.findings if f.severity is Severity.DENY] == [
        FindingCode.UNKNOWN_AUTHOR,
        FindingCode.UNKNOWN_AUTHOR,
    ]
    open_to_all = (
        PolicyBuilder()
        .person("alice", Alias.email("alice@example.com"))
        .person("bob", key("bob"))
        .service("ci", key("ci"))
        .branch("refs/heads/main", approval(1, ["bob"], "b"), checks=checks("tests"),
                unknown_authors=True)
        .build(["alice", "bob"])
    )  # fmt: skip
    assert evaluate(open_to_all, facts, NOW).verdict is Verdict.ALLOW
    registered = (
        PolicyBuilder()
        .person("bob", key("bob"), Alias.email("bob@example.com"))
        .service("ci", key("ci"))
        .branch("refs/heads/main", approval(1, ["bob"], "b"), checks=checks("tests"))
        .build(["bob"], count=1)
    )
    decision = evaluate(registered, facts, NOW)
    assert decision.verdict is Verdict.DENY
    assert f"bob is an author of {own.sha[:7]}" in " ".join(
        _messages(decision, FindingCode.SELF_APPROVAL)
    )
