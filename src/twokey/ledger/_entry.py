"""Ledger entries: canonical, versioned JSON. An entry's leaf hash is what the tree commits to.

Canonical JSON (an RFC 8785 subset): UTF-8, object keys sorted by code point, no insignificant
white space, no floats (integers, strings, booleans, null, arrays and objects only), so one
value has exactly one encoding. The ledger stores the exact bytes it hashed.
"""

from __future__ import annotations

__all__ = ["ENTRY_VERSION", "Entry", "EntryKind", "canonical_json", "parse_entry"]

import enum
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from twokey.errors import UsageError

ENTRY_VERSION = 1
MAX_ENTRY_BYTES = 1 << 20


class EntryKind(enum.StrEnum):
    """What an entry records."""

    DECISION = "decision"
    EVIDENCE = "evidence"
    DEPLOY = "deploy"
    POLICY = "policy"
    REVIEW = "review"  # after-the-fact review of a break-glass exception
    NOTE = "note"


def _check(value: Any, path: str) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return
    if isinstance(value, float):
        raise UsageError(f"{path}: floats are not allowed in ledger entries (use strings)")
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise UsageError(f"{path}: object keys must be strings")
            _check(item, f"{path}.{key}")
        return
    raise UsageError(f"{path}: {type(value).__name__} is not JSON")


def canonical_json(value: Any) -> bytes:
    """The canonical encoding of ``value`` (see the module docstring)."""
    _check(value, "$")
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


@dataclass(frozen=True)
class Entry:
    """One record: what kind, what happened (``body``), and when."""

    kind: EntryKind
    body: dict[str, Any]
    time: datetime

    def __post_init__(self) -> None:
        if self.time.tzinfo is None:
            raise ValueError("Entry.time must be timezone-aware")

    def encode(self) -> bytes:
        """The exact bytes stored and hashed."""
        stamp = self.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        data = canonical_json(
            {"v": ENTRY_VERSION, "kind": self.kind.value, "time": stamp, "body": self.body}
        )
        if len(data) > MAX_ENTRY_BYTES:
            raise UsageError(f"entry is {len(data)} bytes; the limit is {MAX_ENTRY_BYTES}")
        return data


def parse_entry(data: bytes) -> Entry:
    """Parse stored entry bytes back into an :class:`Entry` (raises UsageError if malformed)."""
    try:
        raw = json.loads(data)
        if raw.get("v") != ENTRY_VERSION:
            raise UsageError(f"unsupported entry version {raw.get('v')!r}")
        when = datetime.strptime(raw["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        return Entry(EntryKind(raw["kind"]), dict(raw["body"]), when)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UsageError(f"malformed ledger entry: {exc}") from exc
