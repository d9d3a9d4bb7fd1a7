"""``Roster.without`` names the rule's people but some, exactly as joining them would
(the threshold finding's text, issue 13: no pass over hundreds of people per change)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from twokey.engine._cache import Roster

names = st.text(alphabet=st.sampled_from("ab, é\n"), max_size=4)


@given(people=st.sets(names, max_size=12), data=st.data())
def test_without_is_the_join_of_the_rest(people: set[str], data: st.DataObject) -> None:
    roster = Roster.of(people)
    removed = data.draw(st.sets(st.sampled_from(sorted(people)))) if people else set()
    left, text = roster.without(removed)
    rest = [p for p in sorted(people) if p not in removed]
    assert left == len(rest)
    assert text == ", ".join(rest)
