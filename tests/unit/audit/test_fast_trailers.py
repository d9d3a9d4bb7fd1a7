"""The fast lane remembers a paragraph's kept trailers by the paragraph with the values of its
other trailers left out (``twokey.audit._fast.unkept``): that must never change them."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from twokey.audit._fast import kept_trailers, unkept
from twokey.git import paragraph_trailers

KEYS = [
    "Reviewed-by",
    "reviewed-BY",
    "Acked-by",
    "Approved-by",
    "Co-authored-by",
    "Change-Id",
    "Reviewed-on",
    "TryBot-Result",
    "Signed-off-by",
    "Reviewed-by-bot",
    "X",
    "9a",
]
# Everything str.splitlines cuts at, and white space that regexes read differently.
ODD = ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
SPACE = ["", " ", "  ", "\t", "\u00a0", "\x1f"]
TEXT = ["text", "Fixes #1", "Reviewed by: nobody", "-x: y", ": x", ":"]
VALUES = ["", "A <a@x>", "Bob <bob@example.com>", "I0123abc", "https://r/c/+/1", ":", "\u212a"]


@st.composite
def lines(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["trailer", "continuation", "text", "odd"]))
    if kind == "trailer":
        return (
            draw(st.sampled_from(KEYS))
            + draw(st.sampled_from(SPACE))
            + ":"
            + draw(st.sampled_from(SPACE))
            + draw(st.sampled_from(VALUES))
        )
    if kind == "continuation":
        return draw(st.sampled_from([" ", "\t", "\u00a0"])) + draw(st.sampled_from(VALUES))
    if kind == "text":
        return draw(
            st.sampled_from(["text", "Fixes #1", "Reviewed by: nobody", "-x: y", ": x", ":"])
        )
    return draw(st.text(min_size=0, max_size=6))


@st.composite
def paragraphs(draw: st.DrawFn) -> str:
    parts = draw(st.lists(lines(), min_size=1, max_size=8))
    ends = draw(st.lists(st.sampled_from(ODD), min_size=len(parts), max_size=len(parts)))
    return "".join(p + e for p, e in zip(parts, ends, strict=True))[:-1] + draw(
        st.sampled_from(["", "x", "Change-Id: I1"])
    )


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(paragraphs())
@example("Change-Id: I1\rReviewed-by: Bob <b@x>")  # \r: a line of its own
@example("Change-Id: I1\x85Reviewed-by: Bob <b@x>")
@example("text\ntext\ntext\ntext\nChange-Id: I1\n continued")  # a quarter: still trailers
@example("Reviewed-by\u00a0: Bob <b@x>\nChange-Id\u00a0: I1")  # \s, not [ \t]
@example("Reviewed-by: Bob <b@x>\nChange-Id\n: x\na\nb")  # a key, then a line ": x"
def test_the_kept_trailers_do_not_depend_on_the_other_trailers_values(paragraph: str) -> None:
    assert kept_trailers(unkept(paragraph)) == kept_trailers(paragraph)


def test_the_values_of_other_trailers_are_left_out() -> None:
    gerrit = "Change-Id: I12\nReviewed-on: https://r/+/9\nReviewed-by: Bob <b@x>\nTryBot-Result: ok"
    assert unkept(gerrit) == "Change-Id:\nReviewed-on:\nReviewed-by: Bob <b@x>\nTryBot-Result:"
    assert kept_trailers(gerrit) == (("Reviewed-by", "Bob <b@x>"),)
    assert len(paragraph_trailers(unkept(gerrit))) == 4


def test_a_mutation_is_caught() -> None:
    """Dropping the other trailers' lines (not only their values) changes the quarter rule."""
    paragraph = "a\nb\nc\nd\ne\nf\ng\nh\nReviewed-by: Bob <b@x>\nChange-Id: I1\nReviewed-on: x"
    dropped = "a\nb\nc\nd\ne\nf\ng\nh\nReviewed-by: Bob <b@x>"
    assert kept_trailers(dropped) != kept_trailers(paragraph)
    assert kept_trailers(unkept(paragraph)) == kept_trailers(paragraph)
