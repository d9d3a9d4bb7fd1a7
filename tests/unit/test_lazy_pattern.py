"""A regular expression compiled when first used answers as the compiled one (ADR 0040)."""

from __future__ import annotations

import re

import pytest

from twokey._lazy import lazy_pattern

_CASES = [
    (r"^([A-Za-z0-9][A-Za-z0-9-]*)\s*:\s?(.*)$", ["Reviewed-by: a <b@c>", "no trailer", ""]),
    (r"(?:[0-9]+\+)?(.+)", ["12+alice", "bob", ""]),
]


@pytest.mark.parametrize(("pattern", "texts"), _CASES, ids=["trailer", "noreply"])
def test_a_lazy_pattern_answers_as_the_compiled_one(pattern: str, texts: list[str]) -> None:
    namespace: dict[str, object] = {}
    lazy = namespace["_P"] = lazy_pattern(pattern, namespace)
    table = {"kept": lazy}  # a reference the namespace does not hold
    plain = re.compile(pattern)
    assert namespace["_P"] is lazy  # nothing compiled yet
    for text in texts:
        for method in ("match", "fullmatch", "search"):
            got = getattr(table["kept"], method)(text)
            want = getattr(plain, method)(text)
            assert (got and got.groups()) == (want and want.groups())
        assert table["kept"].findall(text) == plain.findall(text)
        assert table["kept"].sub("x", text) == plain.sub("x", text)
    assert table["kept"].pattern == plain.pattern
    assert table["kept"].groups == plain.groups
    assert namespace["_P"] is plain  # compiled once, and put in its place (re's cache)


def test_a_bytes_pattern_with_flags() -> None:
    namespace: dict[str, object] = {}
    lazy = lazy_pattern(rb"[0-9A-F]{4}", namespace, re.IGNORECASE)
    assert lazy.fullmatch(b"beef")
    assert lazy.flags == re.compile(rb"[0-9A-F]{4}", re.IGNORECASE).flags


def test_a_lazy_pattern_asked_for_a_special_name_does_not_compile() -> None:
    namespace: dict[str, object] = {}
    lazy = namespace["_P"] = lazy_pattern("(", namespace)  # would not compile
    with pytest.raises(AttributeError):
        lazy.__deepcopy__  # noqa: B018
    with pytest.raises(re.error):
        lazy.match("x")  # compiled on first use: the error comes then
