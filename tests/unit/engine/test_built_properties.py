"""Hypothesis laws over hand-built policies: renaming aliases and reordering evidence change
nothing, byte for byte (``decision_json``), for ref updates and deploys alike."""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.engine import world
from tests.unit.engine.test_built_policies import ARTIFACT, RELEASE, company, deploy
from tests.unit.engine.world import NOW, approve, change, commit, passing_tests
from twokey.engine import decision_json, evaluate
from twokey.model import Commit, DeployFacts, Ident, RefUpdateFacts

OURS = company()
THEIRS = company(domain="corp.example")
NAMES = (*world.PEOPLE, "ci", "agent", "mallory")
PATHS = ("src/app.py", "deploy/prod.yml", ".twokey/policy.yml", "docs/x.md")


def _move(ident: Ident) -> Ident:
    return replace(ident, email=ident.email.replace("@example.com", "@corp.example"))


def _renamed(commits: tuple[Commit, ...]) -> tuple[Commit, ...]:
    return tuple(
        replace(
            c,
            author=_move(c.author),
            committer=_move(c.committer),
            co_authors=tuple(_move(i) for i in c.co_authors),
        )
        for c in commits
    )


@st.composite
def ref_update(draw: st.DrawFn) -> RefUpdateFacts:
    authors = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3))
    paths = tuple(draw(st.lists(st.sampled_from(PATHS), min_size=1, max_size=3, unique=True)))
    commits: list[Commit] = []
    for index, author in enumerate(authors):
        parents = (commits[-1].sha,) if commits else ()
        co = tuple(draw(st.lists(st.sampled_from(NAMES), max_size=1)))
        commits.append(
            commit(f"p{index}-{author}", author, parents=parents, paths=paths, co_authors=co)
        )
    targets = draw(st.lists(st.sampled_from(commits), min_size=1, max_size=4))
    approvers = draw(st.lists(st.sampled_from(NAMES), min_size=len(targets), max_size=4))
    approvals = tuple(
        approve(who, target, index=draw(st.integers(0, 1)))
        for who, target in zip(approvers, targets * 4, strict=False)
    )
    checks = (passing_tests(commits[-1]), passing_tests(commits[0], passed=False))
    return RefUpdateFacts(change(*commits), approvals, checks[: draw(st.integers(0, 2))])


@settings(max_examples=120, deadline=None)
@given(ref_update(), st.randoms(use_true_random=False))
def test_ref_update_bytes_survive_renaming_and_reordering(
    facts: RefUpdateFacts, rnd: random.Random
) -> None:
    expected = decision_json(evaluate(OURS, facts, NOW))
    approvals, checks = list(facts.approvals), list(facts.checks)
    rnd.shuffle(approvals)
    rnd.shuffle(checks)
    shuffled = replace(facts, approvals=tuple(approvals), checks=tuple(checks))
    assert decision_json(evaluate(OURS, shuffled, NOW)) == expected
    moved = replace(shuffled.change, commits=_renamed(shuffled.change.commits))
    theirs = decision_json(evaluate(THEIRS, replace(shuffled, change=moved), NOW))
    # A stranger is named by what they claimed (UNKNOWN_AUTHOR): the one alias that shows.
    assert theirs.replace("mallory@corp.example", "mallory@example.com") == expected


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(("ci", "dave", "erin", "alice")),
    st.lists(st.sampled_from(NAMES), max_size=4),
    st.randoms(use_true_random=False),
)
def test_deploy_bytes_survive_renaming_and_reordering(
    deployer: str, approvers: list[str], rnd: random.Random
) -> None:
    facts = deploy(deployer, approvers=tuple(approvers))
    expected = decision_json(evaluate(OURS, facts, NOW))
    shuffled: DeployFacts = replace(
        facts,
        deploy_approvals=tuple(rnd.sample(facts.deploy_approvals, len(facts.deploy_approvals))),
        release=tuple(rnd.sample(RELEASE, len(RELEASE))),
    )
    assert decision_json(evaluate(OURS, shuffled, NOW)) == expected
    moved = replace(shuffled, release=_renamed(shuffled.release))
    assert decision_json(evaluate(THEIRS, moved, NOW)) == expected
    assert ARTIFACT in facts.request.artifact
