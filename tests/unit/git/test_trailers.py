"""Trailers are read the way git interpret-trailers reads them."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twokey.git import co_authors, parse_ident, parse_trailers
from twokey.git._trailers import last_paragraph, paragraph_trailers
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


def _reference_paragraph_trailers(paragraph: str) -> tuple[tuple[str, str], ...]:
    """paragraph_trailers as it was written before issue 13 (lists, then tuples)."""
    trailers: list[list[str]] = []
    other = 0
    for line in paragraph.splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9-]*)\s*:\s?(.*)$", line)
        if match:
            trailers.append([match.group(1), match.group(2).strip()])
        elif line[:1].isspace() and trailers:
            trailers[-1][1] = f"{trailers[-1][1]} {line.strip()}"
        else:
            other += 1
    if not trailers or len(trailers) * 3 < other:
        return ()
    return tuple((key, value) for key, value in trailers)


_LINES = st.sampled_from(
    ["Reviewed-by: A <a@x>", "Change-Id: I1", "  more", "\tcont", "prose here", "", "K:v", "x :"]
)


@given(
    st.one_of(
        st.lists(_LINES, max_size=8).map("\n".join),
        st.text(alphabet="Kab-: \t\n\r\x0b\x1c\u2028", max_size=40),
    )
)
def test_paragraph_trailers_agrees_with_its_first_form(paragraph: str) -> None:
    assert paragraph_trailers(paragraph) == _reference_paragraph_trailers(paragraph)
