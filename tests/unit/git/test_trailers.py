"""Trailers are read the way git interpret-trailers reads them."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twokey.git import co_authors, parse_ident, parse_trailers
from twokey.git._trailers import last_paragraph
from twokey.model import Ident


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("subject only", ()),
        ("subject\n\nCo-authored-by: B <b@x>", (("Co-authored-by", "B <b@x>"),)),
        (
            "subject\n\nbody\n\nReviewed-by: C <c@x>\nAcked-by: D <d@x>\n",
            (("Reviewed-by", "C <c@x>"), ("Acked-by", "D <d@x>")),
        ),
        ("subject\n\nNot a trailer line at all\nNor this one\nnor this\nnor that\nKey: v", ()),
        ("subject\n\nReviewed-by: C\n  <c@x>", (("Reviewed-by", "C <c@x>"),)),
        ("subject\n\nReviewed-by: C <c@x>\n\nfinal prose paragraph", ()),
    ],
    ids=["no-body", "one", "several", "mostly-prose", "continuation", "not-last-paragraph"],
)
def test_parse_trailers(message: str, expected: tuple[tuple[str, str], ...]) -> None:
    assert parse_trailers(message) == expected


def test_co_authors_case_insensitive_and_skips_bad() -> None:
    trailers = (("co-authored-by", "Bob <bob@x>"), ("Co-Authored-By", "nobody"), ("X", "Y <y@x>"))
    assert co_authors(trailers) == (Ident("Bob", "bob@x"),)
    assert parse_ident("no email") is None


def _reference_last_paragraph(message: str) -> str | None:
    """The definition: split into paragraphs at blank lines, keep the non-blank ones."""
    paragraphs = [p for p in re.split(r"\n\s*\n", message.strip("\n")) if p.strip()]
    return paragraphs[-1] if len(paragraphs) >= 2 else None


@given(st.text(alphabet="ab:K \t\n\r\x0b", max_size=40))
def test_last_paragraph_fast_path_agrees_with_the_definition(message: str) -> None:
    assert last_paragraph(message) == _reference_last_paragraph(message)


@pytest.mark.parametrize(
    "message",
    ["s\n\nb\n\n  ", "s\n\nb\n \nc", "  s\n\nb", "\n\ns\n\nb\n\n\n", "s\n\n\tb", "s\n\nb\n"],
)
def test_last_paragraph_edge_shapes(message: str) -> None:
    assert last_paragraph(message) == _reference_last_paragraph(message)
