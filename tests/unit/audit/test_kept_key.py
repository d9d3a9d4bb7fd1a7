"""A paragraph's cache key keeps exactly the trailers a row depends on (twokey.audit._fast)."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from twokey.audit._fast import _KEPT, kept_key
from twokey.git import paragraph_trailers

KEYS = [
    "Reviewed-by",
    "reviewed-BY",
    "Acked-by",
    "Approved-by",
    "Co-authored-by",
    "Change-Id",
    "Reviewed-on",
    "Reviewed-by-bot",
    "Signed-off-by",
    "TryBot-Result",
    "Ac\u212aed-by",  # a Kelvin sign: "k" only to a case-insensitive Unicode pattern
    "X",
]
PIECES = [": ", ":", " : ", "\t:", "\u00a0:", "\x1f:", " ", "\t", "\n", "\r", "\x0b", "\x0c"]
PIECES += ["\x1c", "\x85", "\u2028", "<a@x.example>", "Alice", "I1234", "https://r/c/+/1", "é"]
LINE = st.lists(st.sampled_from(KEYS + PIECES), max_size=6).map("".join)


def _kept(paragraph: str) -> tuple[tuple[str, str], ...]:
    return tuple(t for t in paragraph_trailers(paragraph) if t[0].lower() in _KEPT)


@given(st.lists(LINE, min_size=1, max_size=8).map("\n".join))
@example("Change-Id: I1\nReviewed-by: Alice <a@x.example>\n  continued\nReviewed-on: https://r/1")
@example("Change-Id: I1\n continued\nReviewed-by: Alice <a@x.example>")
@example("Reviewed-by\n: Alice <a@x.example>\nChange-Id: I1")
@example("Reviewed-by: Alice <a@x.example>\nChange-Id: I1\nt\nt\nt\nt\nt\nt")  # a quarter
@example("Change-Id: I1\rReviewed-by: Alice <a@x.example>")  # str.splitlines cuts at \r
@example("Change-Id: I1\u2028Reviewed-by: Alice <a@x.example>")
@example("Ac\u212aed-by: Alice <a@x.example>\nText\nText\nText\nText\nChange-Id: I1")
def test_the_key_keeps_the_trailers_a_row_depends_on(paragraph: str) -> None:
    assert _kept(kept_key(paragraph)) == _kept(paragraph)


def test_every_gerrit_paragraph_of_one_review_shape_has_one_key() -> None:
    one = "Change-Id: I1\nReviewed-on: https://r/c/+/1\nReviewed-by: Alice <a@x.example>"
    two = "Change-Id: I2\nReviewed-on: https://r/c/+/2\nReviewed-by: Alice <a@x.example>"
    assert kept_key(one) == kept_key(two)
    assert kept_key(one) != kept_key(one.replace("Alice", "Bob"))
