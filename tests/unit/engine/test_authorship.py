"""signed_commits and unknown authors in the engine (ADR 0012), over hand-made facts.

The integration tests (tests/integration/git/test_authorship.py) sign real commits; here the
signature facts are written out, to reach every branch: key windows judged at the door's time,
revoked keys, GPG signatures, merges, co-authors.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from tests.unit.engine.world import (
    NOW,
    POLICY_YAML,
    approve,
    change,
    commit,
    key,
    passing_tests,
    public_key,
    sha,
)
from twokey.engine import evaluate
from twokey.model import Commit, CommitSignature, Decision, FindingCode, RefUpdateFacts, Verdict
from twokey.policy import Policy, loads

_SIGNED = POLICY_YAML.replace(
    "    exclude: [authors, committers, co-authors, last-pusher]\n",
    "    exclude: [authors, committers, co-authors, last-pusher]\n    signed_commits: true\n",
)
# alice's second key is only valid until a day before NOW; carol's second key is revoked.
_WINDOWED = _SIGNED.replace(
    f'"{public_key("alice", 1)}"',
    f'{{key: "{public_key("alice", 1)}", valid_before: "{(NOW - timedelta(days=1)).isoformat()}"}}',
).replace(f'"{public_key("carol", 1)}"', f'{{key: "{public_key("carol", 1)}", revoked: true}}')


def _policy() -> Policy:
    return loads(_WINDOWED, "policy.yml")


def _signed(c: Commit, signer: str, index: int = 0, *, valid: bool = True) -> Commit:
    return replace(c, signature=CommitSignature(key(signer, index), valid))


def _decide(*commits: Commit, approver: str = "bob", policy: Policy | None = None) -> Decision:
    head = commits[-1]
    facts = RefUpdateFacts(change(*commits), (approve(approver, head),), (passing_tests(head),))
    return evaluate(policy or _policy(), facts, NOW)


def _denials(decision: Decision) -> dict[FindingCode, str]:
    return {f.code: f.message for f in decision.findings if f.severity.value == "deny"}


ALICE = commit("a1", "alice")


def test_signed_by_the_author_is_allowed() -> None:
    assert _decide(_signed(ALICE, "alice")).verdict is Verdict.ALLOW


def test_either_of_the_author_s_keys_may_sign() -> None:
    assert _decide(_signed(ALICE, "bob", 1), approver="carol").verdict is Verdict.DENY
    assert _decide(_signed(commit("b1", "bob"), "bob", 1), approver="carol").verdict is (
        Verdict.ALLOW
    )


CASES = {
    "unsigned": (ALICE, FindingCode.UNSIGNED_COMMIT, "no signature"),
    "does-not-verify": (
        _signed(ALICE, "alice", valid=False),
        FindingCode.UNSIGNED_COMMIT,
        "a signature that does not verify",
    ),
    "gpg": (
        replace(ALICE, signature=CommitSignature(None, False, "gpg")),
        FindingCode.UNSIGNED_COMMIT,
        "a gpg signature (only SSH signatures are read)",
    ),
    "unregistered-key": (
        _signed(ALICE, "mallory"),
        FindingCode.UNSIGNED_COMMIT,
        "a signature by a key the policy does not register",
    ),
    "expired-at-the-door-s-time": (
        _signed(ALICE, "alice", 1),
        FindingCode.UNSIGNED_COMMIT,
        "a signature by a key of alice that is outside its validity window",
    ),
    "revoked": (
        _signed(commit("c1", "carol"), "carol", 1),
        FindingCode.UNSIGNED_COMMIT,
        "a signature by a key of carol that is revoked",
    ),
    "someone-else-s-key": (
        _signed(ALICE, "carol"),
        FindingCode.AUTHOR_SIGNATURE_MISMATCH,
        "signed by carol, but the author line names alice",
    ),
    "committer-signs-the-author-s-commit": (
        _signed(commit("a2", "alice", committer="carol"), "carol"),
        FindingCode.AUTHOR_SIGNATURE_MISMATCH,
        "signed by carol, but the author line names alice",
    ),
    "signed-by-ci-as-alice": (
        _signed(ALICE, "ci"),
        FindingCode.AUTHOR_SIGNATURE_MISMATCH,
        "signed by ci, but the author line names alice",
    ),
}


@pytest.mark.parametrize(("made", "code", "why"), CASES.values(), ids=CASES.keys())
def test_commits_not_signed_by_their_author_deny(made: Commit, code: FindingCode, why: str) -> None:
    decision = _decide(made)
    assert decision.verdict is Verdict.DENY
    assert _denials(decision)[code] == f"commit {made.sha[:7]}: {why}"


def test_a_clean_merge_needs_its_own_signature() -> None:
    merge = commit("m", "alice", parents=(sha("old"), ALICE.sha), clean_merge=True)
    decision = _decide(_signed(ALICE, "alice"), merge)
    assert _denials(decision) == {
        FindingCode.UNSIGNED_COMMIT: f"commit {merge.sha[:7]}: no signature"
    }
    assert _decide(_signed(ALICE, "alice"), _signed(merge, "alice")).verdict is Verdict.ALLOW


def test_commits_with_one_reason_share_one_finding() -> None:
    a2 = commit("a2", "alice", parents=(ALICE.sha,))
    decision = _decide(ALICE, a2)
    assert _denials(decision) == {
        FindingCode.UNSIGNED_COMMIT: f"commits {ALICE.sha[:7]}, {a2.sha[:7]}: no signature"
    }
    (finding,) = [f for f in decision.findings if f.code is FindingCode.UNSIGNED_COMMIT]
    assert finding.commits == (ALICE.sha, a2.sha)


def test_an_unsigned_rule_reads_no_signature() -> None:
    assert _decide(commit("a3", "alice"), policy=loads(POLICY_YAML)).verdict is Verdict.ALLOW


UNKNOWN = {
    "author": (commit("x1", "mallory@evil.example", committer="alice"), "author"),
    "committer": (commit("x2", "alice", committer="mallory@evil.example"), "committer"),
    "co-author": (commit("x3", "alice", co_authors=("mallory@evil.example",)), "co-author"),
}


@pytest.mark.parametrize(("made", "role"), UNKNOWN.values(), ids=UNKNOWN.keys())
def test_every_role_must_be_known(made: Commit, role: str) -> None:
    decision = _decide(made, policy=loads(POLICY_YAML))
    assert _denials(decision) == {
        FindingCode.UNKNOWN_AUTHOR: f"Mallory@Evil.Example <mallory@evil.example>, {role} of "
        f"commit {made.sha[:7]}, is nobody in the policy"
    }


def test_unknown_authors_allow_lets_them_through() -> None:
    text = POLICY_YAML.replace(
        "    exclude: [authors, committers, co-authors, last-pusher]\n",
        "    exclude: [authors, committers, co-authors, last-pusher]\n    unknown_authors: allow\n",
    )
    decision = _decide(commit("x1", "mallory@evil.example"), policy=loads(text))
    assert decision.verdict is Verdict.ALLOW


def test_a_clean_merge_by_a_stranger_brings_no_unknown_author() -> None:
    """Its merger wrote no content (as for exclusions); the merged commits are checked."""
    merge = commit("m", "mallory@evil.example", parents=(sha("old"), ALICE.sha), clean_merge=True)
    assert _decide(ALICE, merge, policy=loads(POLICY_YAML)).verdict is Verdict.ALLOW
