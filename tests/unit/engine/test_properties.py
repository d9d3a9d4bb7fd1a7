"""Monotonic laws of the engine, checked with hypothesis."""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.engine.world import (
    NOW,
    PEOPLE,
    POLICY_YAML,
    approve,
    change,
    commit,
    passing_tests,
    policy,
)
from twokey.engine import decision_json, evaluate
from twokey.model import Commit, FindingCode, RefUpdateFacts, Verdict

POLICY = policy()
RENAMED = policy(POLICY_YAML.replace("@example.com", "@corp.example"))
ELIGIBLE = ("bob", "carol", "erin", "frank")
PATHS = ("src/app.py", "deploy/prod.yml", ".twokey/policy.yml", "README.md")

people = st.sampled_from(PEOPLE)


@st.composite
def scenario(draw: st.DrawFn) -> tuple[RefUpdateFacts, list[str]]:
    authors = draw(st.lists(people, min_size=1, max_size=3))
    paths = tuple(draw(st.lists(st.sampled_from(PATHS), min_size=1, max_size=3, unique=True)))
    commits: list[Commit] = []
    for index, author in enumerate(authors):
        parents = (commits[-1].sha,) if commits else ()
        commits.append(commit(f"c{index}-{author}", author, parents=parents, paths=paths))
    head = commits[-1]
    approvers = draw(st.lists(people, max_size=4))
    facts = RefUpdateFacts(
        change(*commits), tuple(approve(p, head) for p in approvers), (passing_tests(head),)
    )
    return facts, authors


@settings(max_examples=150, deadline=None)
@given(scenario(), st.sampled_from(ELIGIBLE))
def test_an_eligible_approval_never_turns_allow_into_deny(
    case: tuple[RefUpdateFacts, list[str]], extra: str
) -> None:
    facts, authors = case
    before = evaluate(POLICY, facts, NOW)
    if extra in authors or before.verdict is Verdict.DENY:
        return
    head = facts.change.commits[-1]
    after = evaluate(
        POLICY,
        RefUpdateFacts(facts.change, (*facts.approvals, approve(extra, head)), facts.checks),
        NOW,
    )
    assert after.verdict is Verdict.ALLOW


@settings(max_examples=150, deadline=None)
@given(scenario(), st.integers(min_value=0, max_value=1))
def test_an_authors_alias_never_helps(case: tuple[RefUpdateFacts, list[str]], index: int) -> None:
    facts, authors = case
    head = facts.change.commits[-1]
    if ".twokey/policy.yml" in facts.change.paths:
        # A policy change is a k-of-n sign-off in which the author admin's own signature is
        # one of the k (ADR 0007); there, an author's *second* alias must add nothing.
        facts = RefUpdateFacts(
            facts.change, (*facts.approvals, approve(authors[0], head)), facts.checks
        )
        index = 1
    before = evaluate(POLICY, facts, NOW)
    more = (*facts.approvals, approve(authors[0], head, index=index))
    after = evaluate(POLICY, RefUpdateFacts(facts.change, more, facts.checks), NOW)
    if before.verdict is Verdict.DENY:
        assert after.verdict is Verdict.DENY
    assert {(c.rule, c.person) for c in after.counted} == {
        (c.rule, c.person) for c in before.counted
    }


@settings(max_examples=100, deadline=None)
@given(scenario(), st.randoms(use_true_random=False))
def test_order_and_alias_names_never_change_the_decision(
    case: tuple[RefUpdateFacts, list[str]], rnd: random.Random
) -> None:
    facts, _ = case
    shuffled = list(facts.approvals)
    rnd.shuffle(shuffled)
    reordered = RefUpdateFacts(facts.change, tuple(reversed(shuffled)), facts.checks)
    assert decision_json(evaluate(POLICY, facts, NOW)) == decision_json(
        evaluate(POLICY, reordered, NOW)
    )
    renamed = _rename(facts)
    ours = replace(evaluate(POLICY, facts, NOW), policy_digest="")
    theirs = replace(evaluate(RENAMED, renamed, NOW), policy_digest="")
    # Byte-identical: people are named by id, never by the alias that happened to match.
    assert decision_json(ours) == decision_json(theirs)


def _rename(facts: RefUpdateFacts) -> RefUpdateFacts:
    def move(email: str) -> str:
        return email.replace("@example.com", "@corp.example")

    commits = tuple(
        c.__class__(
            c.sha,
            c.tree,
            c.parents,
            c.author.__class__(c.author.name, move(c.author.email)),
            c.committer.__class__(c.committer.name, move(c.committer.email)),
            c.co_authors,
            c.message,
            c.paths,
            c.signature,
            c.clean_merge,
        )
        for c in facts.change.commits
    )
    old = facts.change
    return RefUpdateFacts(
        old.__class__(
            old.repository,
            old.ref,
            old.old,
            old.new,
            old.new_tree,
            commits,
            old.fast_forward,
            old.paths,
            old.pusher,
        ),
        facts.approvals,
        facts.checks,
    )


@settings(max_examples=100, deadline=None)
@given(people, st.lists(people, max_size=3))
def test_a_policy_change_needs_k_admins(author: str, approvers: list[str]) -> None:
    edit = commit(f"weaken-{author}", author, paths=(".twokey/policy.yml",))
    facts = RefUpdateFacts(
        change(edit), tuple(approve(p, edit) for p in approvers), (passing_tests(edit),)
    )
    decision = evaluate(POLICY, facts, NOW)
    admins = {"erin", "frank"} & set(approvers)
    if len(admins) < 2:
        assert decision.verdict is Verdict.DENY
        assert FindingCode.POLICY_CHANGE_UNAPPROVED in {f.code for f in decision.findings}


FRESH = policy()
WEAKENED = "policy_changes: {approvals: 2, approvers: [admins]}\n"


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(("erin", "frank", "alice")), st.lists(people, max_size=3, unique=True))
def test_removing_the_policy_change_rule_is_judged_by_the_current_policy(
    author: str, approvers: list[str]
) -> None:
    """A push that deletes ``policy_changes`` is judged by the policy it would replace."""
    assert WEAKENED in POLICY_YAML
    edit = commit(f"drop-rule-{author}", author, paths=(".twokey/policy.yml", "src/app.py"))
    facts = RefUpdateFacts(
        change(edit), tuple(approve(p, edit) for p in approvers), (passing_tests(edit),)
    )
    decision = evaluate(POLICY, facts, NOW)
    if len({"erin", "frank"} & set(approvers)) < 2:
        assert decision.verdict is Verdict.DENY
        assert FindingCode.POLICY_CHANGE_UNAPPROVED in {f.code for f in decision.findings}
    else:
        counted = {c.person for c in decision.counted if c.rule == "policy_changes.approvals"}
        assert counted == {"erin", "frank"}


@settings(max_examples=60, deadline=None)
@given(scenario())
def test_deterministic(case: tuple[RefUpdateFacts, list[str]]) -> None:
    facts, _ = case
    first = decision_json(evaluate(POLICY, facts, NOW))
    assert first == decision_json(evaluate(FRESH, facts, NOW))  # another policy object too
