"""Trailers are read the way git interpret-trailers reads them."""

from __future__ import annotations

import pytest

from twokey.git import co_authors, parse_ident, parse_trailers
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
