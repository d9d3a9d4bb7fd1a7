"""The fast path's body parser against the route's model: whatever it takes, the model takes
with the same values (it may refuse more: the route then answers, with its own errors)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from twokey.gateway._fast_checks import fast_body
from twokey.gateway._routes_api import CheckBody

A, B = "a" * 40, "b" * 64


def _model(data: bytes) -> CheckBody | None:
    """What the route reads: JSON (as FastAPI parses it), then the model."""
    try:
        return CheckBody.model_validate(json.loads(data))
    except (ValueError, ValidationError):
        return None


def _agrees(data: bytes) -> None:
    fast = fast_body(data)
    if fast is None:
        return
    slow = _model(data)
    assert slow is not None, data
    assert (fast.ref, fast.old, fast.new) == (slow.ref, slow.old, slow.new)


@pytest.mark.parametrize(
    "body",
    [
        {"ref": "refs/heads/main", "old": A, "new": B},
        {"ref": "refs/heads/main", "old": "0" * 40, "new": A},
        {"new": A, "old": A, "ref": "refs/tags/v1.0"},
    ],
    ids=["sha1-sha256", "created", "key-order"],
)
def test_the_common_bodies_take_the_fast_path(body: dict[str, str]) -> None:
    data = json.dumps(body).encode()
    fast = fast_body(data)
    assert fast is not None
    assert (fast.ref, fast.old, fast.new) == (body["ref"], body["old"], body["new"])


def _raw(ref: str, old: str = A, new: str = A, tail: str = "") -> bytes:
    return f'{{"ref": "{ref}", "old": "{old}", "new": "{new}"{tail}}}'.encode()


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"[1, 2]",
        b'{"ref": "refs/heads/main"}',
        _raw("main"),
        _raw("refs/heads/main\\n"),
        _raw("refs/heads/main", old=A + "\\n"),
        _raw("refs/heads/main", old=A.upper()),
        _raw("refs/h\\u00e9"),
        _raw("refs/a", tail=', "ref": "refs/b"'),
        _raw("refs/a", tail=', "x": 1'),
        b'{"ref": "refs/a", "old": 1, "new": "' + A.encode() + b'"}',
        _raw("refs/" + "x" * 1020),
        b"\xff\xfe{}",
    ],
    ids=[
        "not-json",
        "array",
        "missing",
        "short-ref",
        "ref-newline",
        "oid-newline",
        "upper-oid",
        "non-ascii-ref",
        "duplicate-key",
        "extra-key",
        "number",
        "long-ref",
        "not-utf8",
    ],
)
def test_anything_else_goes_to_the_route(data: bytes) -> None:
    assert fast_body(data) is None


_OIDS = st.one_of(
    st.sampled_from([A, B, "0" * 40, A + "\n", A[:-1], A.upper(), A + "0"]),
    st.text(alphabet="0123456789abcdefABCDEF\n ", min_size=38, max_size=66),
)
_REFS = st.one_of(
    st.sampled_from(["refs/heads/main", "refs/", "refs/a b", "refs/x\n", "refs/\x7f", "heads/x"]),
    st.text(min_size=0, max_size=40).map(lambda s: "refs/" + s),
    st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=1100).map(
        lambda s: "refs/" + s
    ),
)
_VALUES = st.one_of(_OIDS, _REFS, st.integers(), st.none(), st.lists(st.text(), max_size=2))


@settings(max_examples=600, deadline=None)
@given(
    ref=_REFS,
    old=_OIDS,
    new=_OIDS,
    extra=st.dictionaries(st.sampled_from(["ref", "old", "new", "x"]), _VALUES, max_size=2),
)
def test_what_the_fast_path_takes_the_model_takes_alike(
    ref: str, old: str, new: str, extra: dict[str, object]
) -> None:
    body = {"ref": ref, "old": old, "new": new, **extra}
    for data in (json.dumps(body).encode(), json.dumps(body, ensure_ascii=False).encode()):
        _agrees(data)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_never_pass_unchecked(data: bytes) -> None:
    _agrees(data)
