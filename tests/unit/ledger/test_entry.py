"""Canonical JSON (an RFC 8785 subset) and the version-1 entry envelope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from twokey.errors import UsageError, VerificationError
from twokey.ledger import Entry, EntryKind, canonical_json, parse_entry

WHEN = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)

CANONICAL = {
    "sorted-keys": ({"b": 1, "a": [True, None, "x"]}, b'{"a":[true,null,"x"],"b":1}'),
    # RFC 8785 §3.2.3 sorts by UTF-16 code units: U+1F600 (D83D...) before U+FB01 (FB01).
    "utf16-order": ({"\ufb01": 1, "\U0001f600": 2}, '{"😀":2,"ﬁ":1}'.encode()),
    "escapes": ('\b\t\n\f\r"\\\x01\x7f/é', '"\\b\\t\\n\\f\\r\\"\\\\\\u0001\x7f/é"'.encode()),
    "nested": ({"o": {"z": [], "y": {}}}, b'{"o":{"y":{},"z":[]}}'),
    "tuple-is-array": ((1, -2), b"[1,-2]"),
    "max-safe-integer": (2**53 - 1, b"9007199254740991"),
}


@pytest.mark.parametrize(("value", "expected"), CANONICAL.values(), ids=CANONICAL.keys())
def test_canonical_json(value: Any, expected: bytes) -> None:
    assert canonical_json(value) == expected


REJECTED = {
    "float": ({"x": 1.0}, "floats are not allowed"),
    "nan": ([float("nan")], "floats are not allowed"),
    "big-integer": (2**53, "exceeds"),
    "lone-surrogate": ("\ud800", "lone surrogate"),
    "int-key": ({1: "x"}, "keys must be strings"),
    "bytes": ({"x": b"raw"}, "bytes is not JSON"),
}


@pytest.mark.parametrize(("value", "message"), REJECTED.values(), ids=REJECTED.keys())
def test_canonical_json_rejects(value: Any, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        canonical_json(value)


def test_entry_envelope_and_round_trip() -> None:
    later = WHEN.astimezone(timezone(timedelta(hours=2)))
    entry = Entry("decision", {"allowed": True}, later)  # type: ignore[arg-type] # untyped callers
    assert entry.kind is EntryKind.DECISION
    data = entry.encode()
    assert data == (
        b'{"body":{"allowed":true},"kind":"decision","time":"2026-01-02T03:04:05.000006Z","v":1}'
    )
    assert parse_entry(data) == entry


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "nope"}, "unknown entry kind 'nope'"),
        ({"time": datetime(2026, 1, 1)}, "timezone-aware"),  # noqa: DTZ001 - the case tested
        ({"body": ["x"]}, "must be a JSON object"),
    ],
    ids=["kind", "naive-time", "body"],
)
def test_entry_invariants(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"kind": "note", "body": {}, "time": WHEN, **kwargs}
    with pytest.raises(UsageError, match=message):
        Entry(**args)


@pytest.mark.parametrize(
    "data",
    [
        b'{"body":{},"kind":"note","time":"2026-01-02T03:04:05.000006Z","v":2}',
        b'{"body":{},"kind":"note","time":"2026-01-02T03:04:05Z","v":1}',
        b'{"kind":"note","body":{},"time":"2026-01-02T03:04:05.000006Z","v":1}',
        b'{"body":{},"extra":1,"kind":"note","time":"2026-01-02T03:04:05.000006Z","v":1}',
        b"[]",
        b"\xff",
    ],
    ids=["version", "time", "not-canonical", "extra-key", "array", "not-utf8"],
)
def test_parse_entry_rejects(data: bytes) -> None:
    with pytest.raises(VerificationError, match="ledger entry"):
        parse_entry(data)
