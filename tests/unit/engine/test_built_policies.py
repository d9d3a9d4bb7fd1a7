"""The engine against policies built in code (no YAML): the spec's corner cases, one per row.

These complement the YAML-based tables (``test_ref_updates``, ``test_deploys``): the same
company, but compiled by hand with ``_policy_kit.PolicyKit``, so a loader change can never
hide an engine bug (and vice versa: ``test_builder_and_loader_agree`` compares the two).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.unit.engine import world
from tests.unit.engine._policy_kit import PolicyKit
from tests.unit.engine.world import NOW, REPO, approve, change, commit, key, passing_tests, sha
from twokey.engine import decision_json, evaluate, evaluate_safely, explain
from twokey.model import (
    ZERO_SHA,
    Alias,
    AliasKind,
    BreakGlass,
    BuildProvenance,
    CheckResult,
    Commit,
    Decision,
    DeployApproval,
    DeployFacts,
    DeployRequest,
    FindingCode,
    RefUpdateFacts,
    Severity,
    TrustLevel,
    Verdict,
)
from twokey.policy import Exclusion, Policy

ALL_EXCLUSIONS = frozenset(
    {Exclusion.AUTHORS, Exclusion.COMMITTERS, Exclusion.CO_AUTHORS, Exclusion.LAST_PUSHER}
)
ARTIFACT = "sha256:" + "cd" * 32
FRIDAY_NIGHT = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)


def company(
    *, accept_trailers: bool = False, env_checks: bool = False, domain: str = "example.com"
) -> Policy:
    """The WALKTHROUGH company of ``world.POLICY_YAML``, compiled by hand (emails in ``domain``)."""
    builder = PolicyKit(domain)
    for name in world.PEOPLE:
        builder.person(name, keys=2, emails=(f"{name}@home.example",))  # a second email
    builder.service("ci").service("agent", keys=0, directed_by=("bob",))
    builder.group("developers", "alice", "bob").group("reviewers", "bob", "carol")
    builder.group("operators", "dave").group("admins", "erin", "frank")
    accept = frozenset(TrustLevel) if accept_trailers else frozenset(
        {TrustLevel.SIGNED, TrustLevel.FORGE}
    )  # fmt: skip
    builder.branch(
        "main",
        approvals=1,
        approvers=("reviewers", "admins"),
        exclude=ALL_EXCLUSIONS,
        accept=accept,
        checks=(("tests",), ("ci",)),
        break_glass=("erin",),
        owners={"deploy/**": (1, ("carol",))},
    )
    builder.branch("release/*", approvals=2, approvers=("reviewers",))
    builder.branch("refs/tags/v*", approvals=1, approvers=("reviewers",))
    builder.environment(
        "production",
        deployers=("operators", "ci"),
        approvers=("operators", "admins"),
        builders=("ci",),
        checks=(("scan",), ("ci",)) if env_checks else None,
        freeze=("Fri 16:00 - Mon 08:00 Europe/Berlin",),
        break_glass=("dave",),
    )
    return builder.policy_changes(2, ("admins",)).build()


BUILT = company()
A1 = commit("a1", "alice")
A2 = commit("a2", "alice", parents=(A1.sha,))


def facts_for(commits: tuple[Commit, ...], *approvers: str) -> RefUpdateFacts:
    """``commits`` land on main, tests pass, ``approvers`` approve the head."""
    head = commits[-1]
    return RefUpdateFacts(
        change(*commits), tuple(approve(p, head) for p in approvers), (passing_tests(head),)
    )


@dataclass(frozen=True)
class Case:
    facts: Callable[[], RefUpdateFacts]
    verdict: Verdict
    code: FindingCode | None
    message: str
    policy: Callable[[], Policy] = lambda: BUILT


MERGE = commit("merge", "bob", parents=(sha("main"), A1.sha), clean_merge=True)
OWNED_BY_CAROL = commit("carol-deploy", "carol", paths=("deploy/prod.yml",))
WEAKEN = commit("weaken", "erin", paths=(".twokey/policy.yml",))

REF_CASES = {
    "create-protected-ref-needs-approval": Case(
        lambda: RefUpdateFacts(replace(change(A1), old=ZERO_SHA), (), (passing_tests(A1),)),
        Verdict.DENY,
        FindingCode.INSUFFICIENT_APPROVALS,
        "refs/heads/main needs 1 approval(s) from reviewers, admins; 0 counted",
    ),
    "create-protected-ref-approved": Case(
        lambda: RefUpdateFacts(
            replace(change(A1), old=ZERO_SHA), (approve("bob", A1),), (passing_tests(A1),)
        ),
        Verdict.ALLOW,
        None,
        "",
    ),
    "self-approval-names-exclusion-and-commit": Case(
        lambda: facts_for((commit("e1", "erin"),), "erin"),
        Verdict.DENY,
        FindingCode.SELF_APPROVAL,
        f"approval by erin does not count for refs/heads/main: erin is an author of "
        f"{sha('e1')[:7]}",
    ),
    "committer-excluded": Case(
        lambda: facts_for((commit("ab", "alice", committer="bob"),), "bob"),
        Verdict.DENY,
        FindingCode.SELF_APPROVAL,
        f"bob is the committer of {sha('ab')[:7]}",
    ),
    "stale-names-the-newer-commits": Case(
        lambda: RefUpdateFacts(change(A1, A2), (approve("bob", A1),), (passing_tests(A2),)),
        Verdict.DENY,
        FindingCode.STALE_APPROVAL,
        f"approval by bob covers {A1.sha[:7]} but new content landed after it: {A2.sha[:7]}",
    ),
    "unknown-author-denies": Case(
        lambda: facts_for((commit("m1", "mallory@evil.example"),), "bob"),
        Verdict.DENY,
        FindingCode.UNKNOWN_AUTHOR,
        f"Mallory@Evil.Example <mallory@evil.example>, author of commit {sha('m1')[:7]}, is "
        "nobody in the policy",
    ),
    "trailer-counts-where-accepted": Case(
        lambda: RefUpdateFacts(
            change(A1),
            (approve("bob", A1, trust=TrustLevel.TRAILER, signer=Alias.email("bob@example.com")),),
            (passing_tests(A1),),
        ),
        Verdict.ALLOW,
        None,
        "",
        lambda: company(accept_trailers=True),
    ),
    "forge-login-resolves-to-person": Case(
        lambda: RefUpdateFacts(
            change(A1),
            (
                approve(
                    "bob",
                    A1,
                    trust=TrustLevel.FORGE,
                    signer=Alias.email("bob@home.example"),
                ),
            ),
            (passing_tests(A1),),
        ),
        Verdict.ALLOW,
        None,
        "",
    ),
    "clean-merge-author-is-not-an-author": Case(
        lambda: RefUpdateFacts(
            # alice (A1's author) pushes bob's merge: bob is neither author nor pusher
            change(A1, MERGE, pusher="alice"),
            (approve("bob", MERGE),),
            (passing_tests(MERGE),),
        ),
        Verdict.ALLOW,
        None,
        "",
    ),
    "owner-who-wrote-it-leaves-nobody-eligible": Case(
        lambda: facts_for((OWNED_BY_CAROL,), "bob"),
        Verdict.DENY,
        FindingCode.TOO_FEW_ELIGIBLE,
        "only 0 eligible approver(s) left for 1 more approval(s)",
    ),
    "policy-weakened-by-one-admin": Case(
        lambda: facts_for((WEAKEN,), "frank"),
        Verdict.DENY,
        FindingCode.POLICY_CHANGE_UNAPPROVED,
        "needs 2 approval(s) from admins; 1 counted (frank)",
    ),
    "policy-change-author-admin-signs-as-one-of-k": Case(
        lambda: facts_for((WEAKEN,), "frank", "erin"),
        Verdict.ALLOW,
        FindingCode.SELF_APPROVAL,  # erin still does not count for the branch rule
        "erin is an author of",
    ),
    "check-for-other-content-does-not-count": Case(
        lambda: RefUpdateFacts(change(A2), (approve("bob", A2),), (passing_tests(A1),)),
        Verdict.DENY,
        FindingCode.CHECK_MISSING,
        "check 'tests' has no trusted passing result",
    ),
    "check-from-other-repository-does-not-count": Case(
        lambda: RefUpdateFacts(
            change(A1),
            (approve("bob", A1),),
            (CheckResult("tests", "other/repo", A1.tree, True, key("ci"), NOW),),
        ),
        Verdict.DENY,
        FindingCode.CHECK_MISSING,
        "check 'tests' has no trusted passing result",
    ),
    "tag-rule": Case(
        lambda: RefUpdateFacts(change(A1, ref="refs/tags/v1.0"), ()),
        Verdict.DENY,
        FindingCode.INSUFFICIENT_APPROVALS,
        "refs/tags/v1.0 needs 1 approval(s) from reviewers",
    ),
    "approval-of-an-older-tree-is-stale": Case(
        lambda: RefUpdateFacts(
            change(A1, A2),
            (replace(approve("bob", A2), commit=sha("elsewhere"), tree=A1.tree),),
            (passing_tests(A2),),
        ),
        Verdict.DENY,
        FindingCode.STALE_APPROVAL,
        "but new content landed after it",
    ),
    "approval-for-another-ref-is-a-replay": Case(
        lambda: RefUpdateFacts(
            change(A1), (approve("bob", A1, ref="refs/heads/dev"),), (passing_tests(A1),)
        ),
        Verdict.DENY,
        FindingCode.EVIDENCE_MISMATCH,
        "refs/heads/dev",
    ),
    "approval-of-the-first-parent-does-not-cover-a-merge": Case(
        lambda: RefUpdateFacts(
            change(A1, MERGE),
            (replace(approve("carol", A1), commit=sha("main"), tree=sha("tree-main")),),
            (passing_tests(MERGE),),
        ),
        Verdict.DENY,
        FindingCode.INSUFFICIENT_APPROVALS,
        "0 counted",
    ),
    "unclean-merge-author-is-an-author": Case(
        lambda: facts_for(
            (A1, commit("um", "bob", parents=(sha("main"), A1.sha), clean_merge=False)),
            "bob",
        ),
        Verdict.DENY,
        FindingCode.SELF_APPROVAL,
        f"bob is an author of {sha('um')[:7]}",
    ),
    "empty-trees-never-bind": Case(
        lambda: RefUpdateFacts(
            replace(change(A1), new_tree=""),
            (replace(approve("bob", A1), commit=sha("other"), tree=""),),
            (passing_tests(A1),),
        ),
        Verdict.DENY,
        FindingCode.INSUFFICIENT_APPROVALS,
        "0 counted",
    ),
    "break-glass-downgrades-denies-to-warnings": Case(
        lambda: RefUpdateFacts(
            change(A1), (), (), (), BreakGlass(key("erin"), "payments down", NOW)
        ),
        Verdict.ALLOW,
        FindingCode.BREAK_GLASS,
        "break-glass by erin: payments down",
    ),
    "break-glass-by-unregistered-key": Case(
        lambda: RefUpdateFacts(
            change(A1), (), (), (), BreakGlass(key("erin", 7), "payments down", NOW)
        ),
        Verdict.DENY,
        FindingCode.BREAK_GLASS_DENIED,
        "break-glass refused",
    ),
    "unknown-pusher-does-not-crash": Case(
        lambda: RefUpdateFacts(
            replace(change(A1), pusher=Alias.email("someone@else.example")),
            (approve("bob", A1),),
            (passing_tests(A1),),
        ),
        Verdict.ALLOW,
        None,
        "",
    ),
}


def _found(decision: Decision) -> dict[FindingCode, list[str]]:
    out: dict[FindingCode, list[str]] = {}
    for finding in decision.findings:
        out.setdefault(finding.code, []).append(finding.message)
    return out


@pytest.mark.parametrize("case", REF_CASES.values(), ids=REF_CASES.keys())
def test_ref_update_with_built_policy(case: Case) -> None:
    decision = evaluate(case.policy(), case.facts(), NOW)
    assert decision.verdict is case.verdict, explain(decision)
    found = _found(decision)
    if case.code is not None:
        assert case.code in found, explain(decision)
        assert any(case.message in m for m in found[case.code]), found[case.code]
    if case.verdict is Verdict.ALLOW:
        assert all(f.severity is not Severity.DENY for f in decision.findings)


def test_break_glass_keeps_every_reason_as_a_warning() -> None:
    facts = REF_CASES["break-glass-downgrades-denies-to-warnings"].facts()
    decision = evaluate(BUILT, facts, NOW)
    assert decision.break_glass
    found = {f.code: f.severity for f in decision.findings}
    assert found[FindingCode.INSUFFICIENT_APPROVALS] is Severity.WARN
    assert found[FindingCode.CHECK_MISSING] is Severity.WARN
    assert found[FindingCode.BREAK_GLASS] is Severity.WARN


def test_a_service_never_counts_even_if_listed_as_approver() -> None:
    """Invariant 10 holds in the engine itself, not only because the loader refuses it."""
    rule = BUILT.refs[0]
    loose = replace(
        rule, approval=replace(rule.approval, approvers=rule.approval.approvers | {"ci"})
    )
    policy = replace(BUILT, refs=(loose, *BUILT.refs[1:]))
    decision = evaluate(policy, facts_for((A1,), "ci"), NOW)
    assert decision.verdict is Verdict.DENY, explain(decision)
    assert "ci is a service, not a person" in " ".join(
        _found(decision)[FindingCode.SERVICE_APPROVAL]
    )
    assert not decision.counted


def test_builder_and_loader_agree() -> None:
    """The hand-built company and the YAML one decide alike (rule locations aside)."""
    loaded = world.policy()
    for name in ("create-protected-ref-needs-approval", "committer-excluded", "tag-rule"):
        facts = REF_CASES[name].facts()
        ours, theirs = evaluate(BUILT, facts, NOW), evaluate(loaded, facts, NOW)
        assert ours.verdict is theirs.verdict
        assert [(f.code, f.message) for f in ours.findings] == [
            (f.code, f.message) for f in theirs.findings
        ]


# -- deploys ----------------------------------------------------------------------------------

RELEASE = (commit("r1", "alice"), commit("r2", "carol", co_authors=("frank",)))
HEAD = RELEASE[-1]


def deploy(
    deployer: str = "ci",
    *,
    approvers: tuple[str, ...] = ("dave",),
    builder: str = "ci",
    scans: tuple[CheckResult, ...] = (),
    glass: BreakGlass | None = None,
) -> DeployFacts:
    """A deploy of the release's head, approved by erin on the way in."""
    request = DeployRequest(
        "d1", REPO, "production", ARTIFACT, HEAD.sha, key("bob"), key(deployer), NOW, glass
    )
    return DeployFacts(
        request,
        (world.MAIN,),
        RELEASE,
        (approve("erin", HEAD),),
        (BuildProvenance(ARTIFACT, REPO, HEAD.sha, key(builder), NOW),),
        tuple(
            DeployApproval(ARTIFACT, "production", HEAD.sha, key(a), NOW, repository=REPO)
            for a in approvers
        ),
        scans,
    )


def scan(passed: bool = True, subject: str = ARTIFACT) -> CheckResult:
    return CheckResult("scan", REPO, subject, passed, key("ci"), NOW)


DEPLOY_CASES = {
    "service-deployer-is-fine": (deploy(), NOW, Verdict.ALLOW, None, "", False),
    "person-operator-deploys": (deploy("dave", approvers=("frank",)), NOW, Verdict.DENY,
                                FindingCode.DEPLOY_APPROVER_CONFLICT, "frank is a co-author of",
                                False),
    "deploy-approver-is-release-author": (deploy(approvers=("frank",)), NOW, Verdict.DENY,
                                          FindingCode.DEPLOY_APPROVER_CONFLICT,
                                          "frank is a co-author of", False),
    "deploy-approver-approved-release": (deploy(approvers=("erin",)), NOW, Verdict.DENY,
                                         FindingCode.DEPLOY_APPROVER_CONFLICT,
                                         "erin is an approver of", False),
    "two-keys-of-dave-count-once": (deploy(approvers=("dave", "dave")), NOW, Verdict.ALLOW, None,
                                    "", False),
    "untrusted-builder": (deploy(builder="dave"), NOW, Verdict.DENY,
                          FindingCode.UNTRUSTED_BUILDER, "not a trusted builder", False),
    "artifact-check-missing": (deploy(), NOW, Verdict.DENY, FindingCode.CHECK_MISSING,
                               "check 'scan' has no trusted passing result", True),
    "artifact-check-failed": (deploy(scans=(scan(passed=False),)), NOW, Verdict.DENY,
                              FindingCode.CHECK_FAILED, "check 'scan' failed", True),
    "artifact-check-passed": (deploy(scans=(scan(),)), NOW, Verdict.ALLOW, None, "", True),
    "check-on-the-tree-is-not-the-artifact": (deploy(scans=(scan(subject=HEAD.tree),)), NOW,
                                              Verdict.DENY, FindingCode.CHECK_MISSING, "scan",
                                              True),
    "freeze": (deploy(), FRIDAY_NIGHT, Verdict.DENY, FindingCode.FREEZE_WINDOW,
               "production is frozen", False),
    "deploy-approval-for-another-artifact": (
        replace(deploy(), deploy_approvals=(
            DeployApproval("sha256:" + "00" * 32, "production", HEAD.sha, key("dave"), NOW,
                           repository=REPO),)),
        NOW, Verdict.DENY, FindingCode.INSUFFICIENT_DEPLOY_APPROVALS, "0 counted", False),
    "provenance-for-another-commit": (
        replace(deploy(), provenance=(
            BuildProvenance(ARTIFACT, REPO, sha("elsewhere"), key("ci"), NOW),)),
        NOW, Verdict.DENY, FindingCode.NO_PROVENANCE, "has no build provenance", False),
    "unknown-deployer-named-by-alias": (
        replace(deploy(), request=replace(deploy().request, deployer=Alias.email("x@evil.ex"))),
        NOW, Verdict.DENY, FindingCode.UNAUTHORIZED_DEPLOYER, "email:x@evil.ex may not deploy",
        False),
    "deploy-approval-by-a-service": (deploy(approvers=("ci",)), NOW, Verdict.DENY,
                                     FindingCode.SERVICE_APPROVAL, "ci is a service", False),
    "unknown-environment-survives-break-glass": (
        replace(deploy(glass=BreakGlass(key("dave"), "urgent", NOW)),
                request=replace(deploy(glass=BreakGlass(key("dave"), "urgent", NOW)).request,
                                environment="moon")),
        NOW, Verdict.DENY, FindingCode.UNKNOWN_ENVIRONMENT, "moon", False),
    "break-glass-not-allowed": (
        deploy(glass=BreakGlass(key("frank"), "urgent", FRIDAY_NIGHT)), FRIDAY_NIGHT,
        Verdict.DENY, FindingCode.BREAK_GLASS_DENIED, "break-glass refused: frank", False),
}  # fmt: skip


@pytest.mark.parametrize(
    ("facts", "now", "verdict", "code", "message", "checks"),
    DEPLOY_CASES.values(),
    ids=DEPLOY_CASES.keys(),
)
def test_deploy_with_built_policy(
    facts: DeployFacts,
    now: datetime,
    verdict: Verdict,
    code: FindingCode | None,
    message: str,
    checks: bool,
) -> None:
    decision = evaluate(company(env_checks=True) if checks else BUILT, facts, now)
    assert decision.verdict is verdict, explain(decision)
    if code is not None:
        found = _found(decision)
        assert code in found, explain(decision)
        assert any(message in m for m in found[code]), found[code]


def test_deployer_who_wrote_or_approved_the_release() -> None:
    builder = PolicyKit()
    for name in world.PEOPLE:
        builder.person(name)
    builder.service("ci").group("operators", "dave", "erin", "alice")
    policy = (
        builder.environment(
            "production",
            deployers=("operators",),
            approvers=("operators",),
            approvals=0,
            builders=("ci",),
        )
        .policy_changes(1, ("dave",))
        .build()
    )
    wrote = _found(evaluate(policy, deploy("alice"), NOW))
    approved = _found(evaluate(policy, deploy("erin"), NOW))
    assert any(
        f"alice is an author of {sha('r1')[:7]}" in m for m in wrote[FindingCode.DEPLOYER_IS_AUTHOR]
    )
    assert any("erin is an approver of" in m for m in approved[FindingCode.DEPLOYER_IS_APPROVER])
    assert evaluate(policy, deploy("dave"), NOW).verdict is Verdict.ALLOW


def test_deploy_evidence_order_never_matters() -> None:
    facts = deploy(approvers=("dave", "frank", "erin"))
    flipped = replace(facts, deploy_approvals=facts.deploy_approvals[::-1])
    assert decision_json(evaluate(BUILT, facts, NOW)) == decision_json(
        evaluate(BUILT, flipped, NOW)
    )


# -- failing closed and rendering -------------------------------------------------------------


def test_an_internal_error_is_a_deny() -> None:
    """An alias pointing at a principal that does not exist: evaluate fails, safely denies."""
    broken = replace(BUILT, aliases={**BUILT.aliases, key("bob"): "ghost"})
    decision = evaluate_safely(broken, facts_for((A1,), "bob"), NOW)
    assert decision.verdict is Verdict.DENY
    assert [f.code for f in decision.findings] == [FindingCode.INTERNAL_ERROR]
    assert "internal error while deciding: KeyError" in decision.findings[0].message


def test_evaluate_safely_still_refuses_a_naive_now_as_a_deny() -> None:
    decision = evaluate_safely(BUILT, facts_for((A1,), "bob"), NOW.replace(tzinfo=None))
    assert decision.verdict is Verdict.DENY
    assert "timezone-aware" in decision.findings[0].message


def test_decision_json_is_canonical() -> None:
    decision = evaluate(BUILT, facts_for((A1, A2), "alice"), NOW)
    text = decision_json(decision)
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    assert json.loads(text)["verdict"] == "deny"


def test_explain_shows_rules_people_and_remedies() -> None:
    facts = RefUpdateFacts(
        change(A1),
        (approve("alice", A1), approve("ci", A1), approve("carol", A1)),
        (passing_tests(A1),),
    )
    text = explain(evaluate(BUILT, facts, NOW))
    for part in (
        "ALLOW: refs/heads/main",
        "SERVICE_APPROVAL: approval by ci does not count",
        "rule: built.yml:",
        "to satisfy: an approval from bob, carol, erin, frank",
        "branches.refs/heads/main.approvals: 1 counted",
        "+ carol (signed,",
        "- alice: alice is not among the approvers",
    ):
        assert part in text, text


def test_unknown_github_login_is_an_unknown_signer() -> None:
    facts = RefUpdateFacts(
        change(A1),
        (approve("x", A1, trust=TrustLevel.FORGE, signer=Alias.login(AliasKind.GITHUB, "eve")),),
        (passing_tests(A1),),
    )
    found = _found(evaluate(BUILT, facts, NOW))
    assert any("github:eve" in m for m in found[FindingCode.UNKNOWN_SIGNER])
    assert FindingCode.INSUFFICIENT_APPROVALS in found


_SEED_SCRIPT = """
import sys
from tests.unit.engine import test_built_policies as t
from twokey.engine import decision_json, evaluate
for name in sorted(t.REF_CASES):
    case = t.REF_CASES[name]
    print(decision_json(evaluate(case.policy(), case.facts(), t.NOW)))
for name in sorted(t.DEPLOY_CASES):
    facts, now, *_ = t.DEPLOY_CASES[name]
    print(decision_json(evaluate(t.BUILT, facts, now)))
"""


def test_decision_bytes_do_not_depend_on_the_hash_seed() -> None:
    """Set and dict iteration order must never leak into a decision (string hashing varies)."""
    root = Path(__file__).resolve().parents[3]

    def run(seed: str) -> str:
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", _SEED_SCRIPT],
            cwd=root, env=env, capture_output=True, text=True, check=True, timeout=120,
        )  # fmt: skip
        return done.stdout

    first = run("1")
    assert first.count("\n") == len(REF_CASES) + len(DEPLOY_CASES)
    assert run("2") == first


def test_a_service_never_breaks_glass_even_if_listed() -> None:
    """Break-glass is for named people (invariant 6); a service listed by mistake is refused."""
    rule = BUILT.refs[0]
    policy = replace(BUILT, refs=(replace(rule, break_glass=frozenset({"ci"})), *BUILT.refs[1:]))
    facts = RefUpdateFacts(change(A1), (), (), (), BreakGlass(key("ci"), "bot says so", NOW))
    decision = evaluate(policy, facts, NOW)
    assert decision.verdict is Verdict.DENY, explain(decision)
    assert not decision.break_glass
    assert FindingCode.BREAK_GLASS_DENIED in _found(decision)
