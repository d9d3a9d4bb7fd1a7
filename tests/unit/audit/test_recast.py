"""A cast's template is used only once other people's rows confirmed it (twokey.audit._recast)."""

from __future__ import annotations

from dataclasses import replace

from twokey.audit._default_policy import DefaultPolicy
from twokey.audit._model import RowCounts
from twokey.audit._recast import ATTEMPTS, CONFIRMATIONS, Parts, Recast, cast_of
from twokey.audit._signals import SignalShape
from twokey.engine import ChangeShape
from twokey.policy import Policy

COUNTS = RowCounts(True, False, False, False, False, ("SELF_APPROVAL",))


def _row(author: str, reviewer: str, verdict: str = "deny") -> Parts:
    """What the engine's row of a self-reviewed change looks like, for these people."""
    public = (
        f'{{{{"authors": ["{author}"], "merger": "{reviewer}", "verdict": "{verdict}", '
        f'"message": "approval by {reviewer} does not count: {reviewer} is the committer"}}}}'
    )
    extras = f'{{"author_emails": ["{author}@x.example"]}}'
    signals = SignalShape(
        (author,), (), None, False, ((f"{reviewer}@x.example", f"{author}@x.example"),)
    )
    return Parts(0, public, extras, COUNTS, signals)


def _values(author: str, reviewer: str) -> tuple[str, ...]:
    return (author, reviewer, f"{author}@x.example", f"{reviewer}@x.example")


def test_a_candidate_is_used_only_after_other_peoples_rows_confirmed_it() -> None:
    recast = Recast(_row("alice", "bob"), _values("alice", "bob"))
    for n in range(CONFIRMATIONS):
        assert not recast.usable
        recast.study(_row(f"carol{n}", f"dave{n}"), _values(f"carol{n}", f"dave{n}"))
    assert recast.usable
    assert recast.fill(_values("erin", "frank")) == _row("erin", "frank")


def test_a_slot_is_confirmed_only_by_rows_with_another_value_in_it() -> None:
    recast = Recast(_row("alice", "bob"), _values("alice", "bob"))
    for n in range(CONFIRMATIONS + 1):
        recast.study(_row("alice", f"dave{n}"), _values("alice", f"dave{n}"))
    assert not recast.usable  # alice's slot never held anyone else
    assert recast.fill(_values("alice", "frank")) == _row("alice", "frank")  # as confirmed
    assert recast.fill(_values("erin", "frank")) is None  # alice's slot filled in: not yet
    for n in range(CONFIRMATIONS):
        recast.study(_row(f"erin{n}", "bob"), _values(f"erin{n}", "bob"))
    assert recast.usable


def test_a_mark_caught_in_fixed_text_is_never_used() -> None:
    """A person whose id is ``deny`` is marked in the verdict too: other people show it."""
    recast = Recast(_row("deny", "bob"), _values("deny", "bob"))
    assert recast.fill(_values("carol", "dave")) is None
    recast.study(_row("carol", "dave"), _values("carol", "dave"))
    assert recast.confirmed == [0, 0, 0, 0]  # replaced by a candidate made from carol's row
    assert recast.attempts == 2
    recast.study(_row("erin", "frank"), _values("erin", "frank"))
    recast.study(_row("gina", "hugo"), _values("gina", "hugo"))
    assert recast.usable
    assert recast.fill(_values("deny", "bob")) == _row("deny", "bob")


def test_a_cast_that_keeps_failing_goes_the_slow_way() -> None:
    """Rows that differ by more than their people (here a verdict) are never filled in."""
    recast = Recast(_row("alice", "bob"), _values("alice", "bob"))
    for n in range(ATTEMPTS - 1):
        assert not recast.spent
        recast.study(_row(f"a{n}", f"r{n}", verdict=f"v{n}"), _values(f"a{n}", f"r{n}"))
    assert recast.spent
    recast.study(_row("c", "d"), _values("c", "d"))
    recast.study(_row("e", "f"), _values("e", "f"))
    assert not recast.usable


def _policy(*emails: str) -> Policy:
    return DefaultPolicy("refs/heads/main").ensure(emails)


def _shape(author: str, committer: str, *reviewers: str) -> ChangeShape:
    approvals = tuple(sorted((f"email:{r}", "trailer", "trailer:Reviewed-by") for r in reviewers))
    return ChangeShape(
        "repo", "refs/heads/main", False, ("A", author), ("C", committer), (), approvals, ()
    )


def test_casts_are_alike_when_only_the_people_differ_in_the_same_order() -> None:
    policy = _policy("a@x.example", "b@x.example", "c@x.example", "d@x.example")
    ab = cast_of(_shape("a@x.example", "a@x.example", "b@x.example"), 0, policy)
    cd = cast_of(_shape("c@x.example", "c@x.example", "d@x.example"), 0, policy)
    ba = cast_of(_shape("b@x.example", "b@x.example", "a@x.example"), 0, policy)
    assert ab is not None
    assert cd is not None
    assert ba is not None
    assert ab.key == cd.key
    assert ab.values == ("a", "b", "a@x.example", "b@x.example")
    assert ba.key != ab.key  # the ids sort the other way: rows list them in another order
    assert cast_of(_shape("a@x.example", "a@x.example", "b@x.example"), 1, policy) != ab


def test_only_the_inferred_policys_known_plain_emails_are_cast() -> None:
    policy = _policy("a@x.example", "b@x.example", "Up@x.example")
    assert cast_of(_shape("a@x.example", "a@x.example", "z@x.example"), 0, policy) is None
    assert cast_of(_shape("Up@x.example", "Up@x.example", "b@x.example"), 0, policy) is None
    written = replace(_policy("a@x.example", "b@x.example"), source="policy.yml")
    assert cast_of(_shape("a@x.example", "a@x.example", "b@x.example"), 0, written) is None
