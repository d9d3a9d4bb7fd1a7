"""Invariant 2 as ADR 0011 states it: an approval of head H covers OLD -> NEW exactly when
NEW's tree is the clean merge of OLD with H. The door computes landings; the engine compares."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.unit.engine.world import NOW, approve, change, commit, passing_tests, policy, sha
from twokey.engine import evaluate
from twokey.model import Commit, FindingCode, Landing, RefUpdateFacts, Verdict

POLICY = policy()
X = commit("x", "alice")  # an approved head elsewhere (a feature branch)
NEW = commit("new", "alice", tree=sha("tree-merged"))


def _facts(target: Commit, landing: Landing | None, **kw: Any) -> RefUpdateFacts:
    update = replace(change(target), old_tree=sha("tree-old"), **kw)
    return RefUpdateFacts(
        update,
        (approve("bob", X),),
        (passing_tests(target),),
        landings=(landing,) if landing else (),
    )


CASES = {
    "landing gives the new tree": (Landing(X.sha, X.tree, NEW.tree), Verdict.ALLOW, None),
    "landing gives another tree (extra content, merge replay)": (
        Landing(X.sha, X.tree, sha("tree-other")),
        Verdict.DENY,
        "not the pushed tree",
    ),
    "landing changes nothing (revert to an old approved tree)": (
        Landing(X.sha, X.tree, sha("tree-old")),
        Verdict.DENY,
        "landing it changes nothing",
    ),
    "no clean merge": (Landing(X.sha, X.tree, ""), Verdict.DENY, "does not merge cleanly"),
    "the repository lacks the head": (Landing(X.sha, "", ""), Verdict.DENY, "does not hold it"),
    "the approval claims another tree": (
        Landing(X.sha, sha("tree-real"), NEW.tree),
        Verdict.DENY,
        "whose tree is",
    ),
    "no landing at all": (None, Verdict.DENY, "content this update does not bring"),
}


@pytest.mark.parametrize(("landing", "verdict", "message"), CASES.values(), ids=CASES.keys())
def test_binding(landing: Landing | None, verdict: Verdict, message: str | None) -> None:
    facts = _facts(NEW, landing)
    if landing is not None and landing.tree == sha("tree-old"):
        facts = replace(facts, change=replace(facts.change, new_tree=sha("tree-old")))
    decision = evaluate(POLICY, facts, NOW)
    assert decision.verdict is verdict
    if message is not None:
        found = [f.message for f in decision.findings if f.code is FindingCode.EVIDENCE_MISMATCH]
        assert any(message in m for m in found), found


def test_an_approval_of_the_new_tip_must_name_its_tree() -> None:
    forged = replace(approve("bob", NEW), tree=sha("tree-elsewhere"))
    facts = RefUpdateFacts(change(NEW), (forged,), (passing_tests(NEW),))
    assert evaluate(POLICY, facts, NOW).verdict is Verdict.DENY


def test_a_protected_ref_must_name_a_commit() -> None:
    update = replace(change(NEW, ref="refs/tags/v9"), commits=(), new_type="tree")
    decision = evaluate(POLICY, RefUpdateFacts(update, (approve("bob", NEW),)), NOW)
    assert decision.verdict is Verdict.DENY
    assert [f.code for f in decision.findings] == [FindingCode.NOT_A_COMMIT]


def test_a_protected_tag_never_moves() -> None:
    update = change(NEW, ref="refs/tags/v1", old=sha("v1-before"))
    decision = evaluate(
        POLICY, RefUpdateFacts(update, (approve("bob", NEW, ref="refs/tags/v1"),)), NOW
    )
    assert decision.verdict is Verdict.DENY
    assert FindingCode.TAG_MOVED in {f.code for f in decision.findings}


def test_the_authors_of_a_covering_landing_are_excluded() -> None:
    # A squash by alice of bob's approved head: bob wrote what lands, so bob may not approve.
    bobs = commit("bobs", "bob")
    squash = commit("squash", "alice", tree=sha("tree-merged"))
    landing = Landing(bobs.sha, bobs.tree, squash.tree, (bobs,))
    facts = RefUpdateFacts(
        change(squash), (approve("bob", bobs),), (passing_tests(squash),), landings=(landing,)
    )
    decision = evaluate(POLICY, facts, NOW)
    assert decision.verdict is Verdict.DENY
    assert FindingCode.SELF_APPROVAL in {f.code for f in decision.findings}
    assert (
        evaluate(POLICY, replace(facts, landings=(replace(landing, commits=()),)), NOW).verdict
        is Verdict.ALLOW
    )


def test_only_object_ids_get_landings() -> None:
    from twokey.git._reviews import landing_heads  # noqa: PLC0415 - the door's half

    update = change(NEW)
    named = replace(approve("bob", X), commit="main")
    assert landing_heads(update, [approve("bob", X), named]) == {X.sha}
