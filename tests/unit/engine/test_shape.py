"""Two simple updates of the same shape get the same decision (twokey.engine._shape).

The audit's fast lane writes rows from templates keyed by ``ChangeShape``; these properties are
what makes that sound. Hypothesis draws the shape (identities known, unknown, look-alike or
without an email; approvals of every trust level by people, services, strangers and authors;
paths owned or not, the policy file; refs protected, tagged or not) and, twice, everything the
shape leaves out (object ids, times, messages, trailers, per-commit paths, evidence times).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.engine.world import MAIN, NOW, POLICY_YAML, REPO, key, policy
from twokey.engine import ChangeShape, decision_json, evaluate, shape_of
from twokey.model import (
    ZERO_SHA,
    Alias,
    Approval,
    BreakGlass,
    Change,
    CheckResult,
    Commit,
    CommitSignature,
    Ident,
    Landing,
    RefUpdateFacts,
    TrustLevel,
)
from twokey.policy import Policy

# The company's policy, and one that reads trailers, wants signed commits on release
# branches and lets strangers author on tags (so every branch of the engine is reached).
LOOSE_YAML = (
    POLICY_YAML.replace("    checks: {require: [tests], signers: [ci]}\n", "")
    .replace(
        "    approvals: 1\n    approvers: [reviewers, admins]\n",
        "    approvals: 1\n    approvers: [reviewers, admins]\n"
        "    accept: [signed, forge, trailer]\n",
    )
    .replace(
        '  "release/*":\n    approvals: 2\n',
        '  "release/*":\n    approvals: 2\n    signed_commits: true\n',
    )
    .replace(
        'tags:\n  "v*": {approvals: 1, approvers: [reviewers]}',
        'tags:\n  "v*": {approvals: 1, approvers: [reviewers], unknown_authors: allow}',
    )
)
POLICIES = {"company": policy(), "loose": policy(LOOSE_YAML)}
IDENTS = [
    ("Alice", "alice@example.com"),
    ("Bob", "bob@home.example"),
    ("Bob", "bob+wip@example.com"),
    ("Carol", "carol@example.com"),
    ("Erin", "erin@example.com"),
    ("Coding agent", "agent@example.com"),
    ("Mallory", "mallory@evil.example"),
    ("Carol", "c4rol@evil.example"),  # a stranger named like carol
    ("Alice", ""),  # git recorded no email
    ("Nobody", ""),
]
SIGNERS = [
    Alias.email("bob@example.com"),
    Alias.email("carol@home.example"),
    Alias.email("erin@example.com"),
    Alias.email("alice@example.com"),
    Alias.email("agent@example.com"),
    Alias.email("mallory@evil.example"),
    key("bob"),
    key("frank", 1),
    key("ci"),
    key("stranger"),
]
REFS = [MAIN, "refs/heads/release/1.0", "refs/tags/v1.0", "refs/heads/topic"]
PATHS = ["src/app.py", "deploy/prod.yml", ".twokey/policy.yml", "docs/x.md"]


@st.composite
def shapes(draw: st.DrawFn) -> ChangeShape:
    """A shape of a simple update (only what the engine reads)."""
    ident = st.sampled_from(IDENTS)
    approval = st.tuples(
        st.sampled_from([str(s) for s in SIGNERS]),
        st.sampled_from([t.value for t in TrustLevel]),
        st.sampled_from(["ev-1", "ev-2", "trailer:Reviewed-by", "twokey approve"]),
    )
    return ChangeShape(
        REPO,
        draw(st.sampled_from(REFS)),
        draw(st.booleans()),
        draw(ident),
        draw(ident),
        tuple(draw(st.lists(ident, max_size=2))),
        tuple(sorted(draw(st.lists(approval, max_size=4)))),
        tuple(sorted(draw(st.sets(st.sampled_from(PATHS), min_size=1)))),
    )


def _oid(n: int) -> str:
    return hashlib.sha1(str(n).encode()).hexdigest()


@st.composite
def ids(draw: st.DrawFn) -> tuple[str, str, str]:
    """(new, old, new tree): three ids, distinct even in git's short form."""
    found = draw(st.lists(st.integers(0, 10**9), min_size=3, max_size=3, unique=True))
    out = tuple(_oid(n) for n in found)
    if len({i[:7] for i in out}) != 3:
        return ("1" * 40, "2" * 40, "3" * 40)
    return out[0], out[1], out[2]


_SIGNER_OF = {str(s): s for s in SIGNERS}


def _facts(shape: ChangeShape, oids: tuple[str, str, str], seed: int) -> RefUpdateFacts:
    """Facts of ``shape``, with ``oids`` and with what the shape leaves out varied by ``seed``."""
    new, old, tree = oids
    when = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=seed)
    commit = Commit(
        sha=new,
        tree=tree,
        parents=() if shape.creates else (old,),
        author=Ident(*shape.author, when),
        committer=Ident(*shape.committer, when + timedelta(minutes=seed % 7)),
        co_authors=tuple(Ident(*i) for i in shape.co_authors),
        message=f"change {seed}\n\nReviewed-by: Someone <s{seed}@example.com>\n",
        paths=shape.paths[: seed % 2],
        trailers=(("Reviewed-by", f"Someone <s{seed}@example.com>"),) if seed % 3 else (),
    )
    change = Change(
        REPO,
        shape.ref,
        ZERO_SHA if shape.creates else old,
        new,
        tree,
        (commit,),
        True,
        shape.paths,
        old_tree=_oid(seed) if seed % 2 else "",
    )
    approvals = tuple(
        Approval(
            REPO,
            shape.ref,
            new,
            tree,
            _SIGNER_OF[signer],
            when + timedelta(seconds=n),
            TrustLevel(trust),
            source=evidence or "twokey approve",
            evidence_id=evidence,
        )
        for n, (signer, trust, evidence) in enumerate(shape.approvals)
    )
    return RefUpdateFacts(change, approvals)


def _without_ids(text: str, oids: tuple[str, str, str]) -> str:
    """``text`` with the ids (full, then git's short form) replaced by placeholders."""
    for n, oid in enumerate(oids):
        text = text.replace(oid, f"<id{n}>")
    for n, oid in enumerate(oids):
        text = text.replace(oid[:7], f"<id{n}>")
    return text


@settings(max_examples=400, deadline=None)
@given(
    shapes(),
    ids(),
    ids(),
    st.integers(0, 50),
    st.integers(0, 50),
    st.sampled_from(sorted(POLICIES)),
)
def test_one_shape_one_decision(
    shape: ChangeShape,
    first: tuple[str, str, str],
    second: tuple[str, str, str],
    seed1: int,
    seed2: int,
    which: str,
) -> None:
    rules = POLICIES[which]
    one, two = _facts(shape, first, seed1), _facts(shape, second, seed2)
    assert shape_of(one) == shape_of(two) == shape
    decided = [decision_json(evaluate(rules, f, NOW)) for f in (one, two)]
    assert _without_ids(decided[0], first) == _without_ids(decided[1], second)


def test_the_shape_can_tell_changes_apart() -> None:
    """Not a vacuous property: the drawn shapes do reach different verdicts and findings."""
    rules = POLICIES["loose"]
    seen = {
        decision_json(evaluate(rules, _facts(s, ("1" * 40, "2" * 40, "3" * 40), 0), NOW))
        for s in [
            ChangeShape(REPO, MAIN, False, IDENTS[0], IDENTS[0], (), (), ("src/app.py",)),
            ChangeShape(
                REPO,
                MAIN,
                False,
                IDENTS[0],
                IDENTS[0],
                (),
                ((str(SIGNERS[0]), "trailer", "trailer:Reviewed-by"),),
                ("src/app.py",),
            ),
        ]
    }
    assert len(seen) == 2


def _simple() -> RefUpdateFacts:
    shape = ChangeShape(
        REPO,
        MAIN,
        False,
        IDENTS[0],
        IDENTS[0],
        (),
        ((str(SIGNERS[0]), "signed", "ev-1"),),
        ("src/app.py",),
    )
    return _facts(shape, ("1" * 40, "2" * 40, "3" * 40), 0)


def _with_change(facts: RefUpdateFacts, **changes: object) -> RefUpdateFacts:
    return replace(facts, change=replace(facts.change, **changes))  # type: ignore[arg-type]


def _with_commit(facts: RefUpdateFacts, **changes: object) -> RefUpdateFacts:
    commit = replace(facts.change.commits[0], **changes)  # type: ignore[arg-type]
    return _with_change(facts, commits=(commit,))


NOT_SIMPLE = {
    "a check result": lambda f: replace(
        f, checks=(CheckResult("tests", REPO, "3" * 40, True, key("ci"), NOW),)
    ),
    "rejected evidence": lambda f: replace(f, rejected=(("mallory", "UNKNOWN_SIGNER"),)),
    "break-glass": lambda f: replace(f, break_glass=BreakGlass(key("erin"), "down", NOW)),
    "a landing": lambda f: replace(f, landings=(Landing("4" * 40, "5" * 40, "6" * 40),)),
    "a pusher": lambda f: _with_change(f, pusher=key("bob")),
    "a force-push": lambda f: _with_change(f, fast_forward=False),
    "a tree, not a commit": lambda f: _with_change(f, new_type="tree"),
    "a deletion": lambda f: _with_change(f, new=ZERO_SHA),
    "two commits": lambda f: _with_change(f, commits=f.change.commits * 2),
    "a merge": lambda f: _with_commit(f, parents=("2" * 40, "4" * 40), clean_merge=True),
    "a signed commit": lambda f: _with_commit(f, signature=CommitSignature(key("alice"), True)),
    "a commit that is not the tip": lambda f: _with_commit(f, sha="4" * 40),
    "a commit with another tree": lambda f: _with_commit(f, tree="4" * 40),
    "an approval of another commit": lambda f: replace(
        f, approvals=(replace(f.approvals[0], commit="4" * 40),)
    ),
    "an approval of another tree": lambda f: replace(
        f, approvals=(replace(f.approvals[0], tree="4" * 40),)
    ),
    "an approval for another ref": lambda f: replace(
        f, approvals=(replace(f.approvals[0], ref="refs/heads/other"),)
    ),
    "an approval for another repository": lambda f: replace(
        f, approvals=(replace(f.approvals[0], repository="elsewhere"),)
    ),
}


@pytest.mark.parametrize("make", NOT_SIMPLE.values(), ids=NOT_SIMPLE.keys())
def test_only_simple_updates_have_a_shape(make: object) -> None:
    facts = _simple()
    assert shape_of(facts) is not None
    assert shape_of(make(facts)) is None  # type: ignore[operator]


def test_policies_parse() -> None:
    assert all(isinstance(p, Policy) for p in POLICIES.values())
