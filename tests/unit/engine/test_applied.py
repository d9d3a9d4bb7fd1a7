"""Evidence kind ``applied``: the committer of another's patch, counted where the rule says
``count_applied`` and held to every exclusion but the committer's own (attacks first)."""

from __future__ import annotations

import pytest

from tests.unit.engine.world import NOW, POLICY_YAML, change, commit, passing_tests
from twokey.engine import evaluate
from twokey.git import applied_approval
from twokey.model import Approval, Commit, Decision, FindingCode, RefUpdateFacts, Verdict
from twokey.policy import Policy, PolicyError, loads, loosenings

_ACCEPT = "    exclude: [authors, committers, co-authors, last-pusher]\n"
_TRAILERS = _ACCEPT + "    accept: [signed, trailer]\n"
COUNTING = POLICY_YAML.replace(_ACCEPT, _TRAILERS + "    count_applied: true\n")
NOT_COUNTING = POLICY_YAML.replace(_ACCEPT, _TRAILERS)


def _applied(c: Commit) -> Approval:
    found = applied_approval(c, "example.com/shop", "refs/heads/main", NOW)
    assert found is not None
    return found


def _decide(c: Commit, text: str = COUNTING, *, pusher: str | None = "carol") -> Decision:
    facts = RefUpdateFacts(change(c, pusher=pusher), (_applied(c),), checks=(passing_tests(c),))
    return evaluate(loads(text, "policy.yml"), facts, NOW)


def _codes(decision: Decision) -> set[FindingCode]:
    return {f.code for f in decision.findings}


def test_the_maintainer_who_applied_a_patch_counts() -> None:
    decision = _decide(commit("patch", "carol", committer="bob"))
    assert decision.verdict is Verdict.ALLOW, decision.findings
    assert [(c.person, c.evidence, c.trust) for c in decision.counted] == [
        ("bob", "applied", "trailer")
    ]


def test_only_the_committer_exclusion_is_waived() -> None:
    # bob applied carol's patch and pushed it himself: the rule excludes the last pusher
    decision = _decide(commit("patch", "carol", committer="bob"), pusher="bob")
    assert decision.verdict is Verdict.DENY
    assert "bob is the pusher of this change" in {e.reason for e in decision.excluded}
    # bob applied a patch he co-wrote
    co = commit("co", "carol", committer="bob", co_authors=("bob",))
    assert _codes(_decide(co)) >= {FindingCode.SELF_APPROVAL, FindingCode.INSUFFICIENT_APPROVALS}


def test_one_person_under_two_emails_did_not_apply_anyone_elses_patch() -> None:
    own = commit("own", "bob@example.com", committer="bob@home.example")
    text = COUNTING.replace("[bob@example.com]", "[bob@example.com, bob@home.example]")
    decision = _decide(own, text)
    assert decision.verdict is Verdict.DENY
    assert FindingCode.SELF_APPROVAL in _codes(decision)


def test_not_counted_where_the_rule_does_not_say_so() -> None:
    decision = _decide(commit("patch", "carol", committer="bob"), NOT_COUNTING)
    assert decision.verdict is Verdict.DENY
    refusals = [f for f in decision.findings if f.code is FindingCode.UNTRUSTED_EVIDENCE]
    assert [f.message for f in refusals] == [
        "approval by bob does not count for refs/heads/main: applying another's patch is "
        "not counted as approval here (count_applied)"
    ]


@pytest.mark.parametrize("committer", ["zed@example.org", "agent"], ids=["unknown", "service"])
def test_a_committer_who_is_nobody_or_a_service_claims_nothing(committer: str) -> None:
    decision = _decide(commit("patch", "carol", committer=committer))
    assert decision.verdict is Verdict.DENY
    quiet = {FindingCode.UNKNOWN_SIGNER, FindingCode.SERVICE_APPROVAL}
    assert not _codes(decision) & quiet
    assert decision.counted == ()


def test_applying_never_signs_off_a_policy_change() -> None:
    # erin (an admin, a main approver) applies carol's change to the policy
    patch = commit("policy", "carol", committer="erin", paths=(".twokey/policy.yml",))
    decision = _decide(patch)
    assert decision.verdict is Verdict.DENY
    assert FindingCode.POLICY_CHANGE_UNAPPROVED in _codes(decision)
    assert [c.person for c in decision.counted if "policy_changes" in c.rule] == []


def test_a_merge_and_ones_own_commit_are_not_applied() -> None:
    merge = commit("merge", "carol", committer="bob", parents=("a" * 40, "b" * 40))
    own = commit("own", "bob")
    assert applied_approval(merge, "r", "refs/heads/main", NOW) is None
    assert applied_approval(own, "r", "refs/heads/main", NOW) is None


def test_the_policy_says_it_loudly() -> None:
    policy: Policy = loads(COUNTING, "policy.yml")
    assert policy.refs[0].approval.count_applied
    assert policy.refs[0].counts_applied
    assert any("count_applied" in f.message and f.invariant == 3 for f in loosenings(policy))
    with pytest.raises(PolicyError, match="'count_applied' counts an unverified claim"):
        loads(POLICY_YAML.replace(_ACCEPT, _ACCEPT + "    count_applied: true\n"), "p.yml")
    with pytest.raises(PolicyError, match="count_applied"):
        loads(
            POLICY_YAML.replace(
                "    builders: [ci]\n", "    builders: [ci]\n    count_applied: true\n"
            ),
            "p.yml",
        )
