"""Ledger entries: canonical, versioned JSON. An entry's leaf hash is what the tree commits to.

Canonical JSON is the subset of RFC 8785 (JCS) that needs no number formatting: UTF-8; object
keys sorted by their UTF-16 code units (RFC 8785 §3.2.3); no insignificant white space; strings
escaped as §3.2.2.2 says (``\\b \\t \\n \\f \\r \\" \\\\``, other controls as ``\\u00xx``,
everything else literal); integers only, within ±(2**53 - 1) so that every JCS implementation
reads them back exactly; no floats, NaN or infinities (rejected, not rounded). One value has
exactly one encoding, and the ledger stores the exact bytes it hashed.

Envelope (version 1)::

    {"body":{...},"kind":"decision","time":"2026-01-02T03:04:05.000006Z","v":1}
"""

from __future__ import annotations

__all__ = ["ENTRY_VERSION", "Entry", "EntryKind", "canonical_json", "parse_entry"]

import enum
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from twokey.errors import UsageError, VerificationError

ENTRY_VERSION = 1
MAX_ENTRY_BYTES = 1 << 20
MAX_SAFE_INTEGER = (1 << 53) - 1  # RFC 8785 §3.2.2.3 / I-JSON (RFC 7493 §2.2)
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


class EntryKind(enum.StrEnum):
    """What an entry records (a closed set: a new kind is a new release)."""

    DECISION = "decision"
    EVIDENCE = "evidence"
    DEPLOY = "deploy"
    POLICY = "policy"
    REVIEW = "review"  # after-the-fact review of a break-glass exception
    NOTE = "note"
    LANDED = "landed"  # post-receive: a ref update git actually made (after the decision)
    FORGE = "forge"  # a webhook delivery a forge sent, authenticated (before it takes effect)
    GATEWAY = "gateway"  # a gateway deploy request's state change (before it takes effect)
    ACCESS = "access"  # the gateway: a sign-in (or its refusal), a token created or revoked


def _string(text: str, path: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate has no UTF-8 form (RFC 8785 §3.2.2.2)
        raise UsageError(f"{path}: string holds a lone surrogate, which is not Unicode") from exc
    return json.dumps(text, ensure_ascii=False)


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _encode(value: Any, path: str, out: list[str]) -> None:
    if value is None or isinstance(value, bool):
        out.append({None: "null", True: "true", False: "false"}[value])
        return
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise UsageError(f"{path}: integer {value} exceeds ±(2**53 - 1); use a string")
        out.append(str(int(value)))
        return
    if isinstance(value, str):
        out.append(_string(str(value), path))
        return
    if isinstance(value, float):
        raise UsageError(f"{path}: floats are not allowed in ledger entries (use a string)")
    if isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            out.append("," if i else "")
            _encode(item, f"{path}[{i}]", out)
        out.append("]")
        return
    if isinstance(value, dict):
        _encode_object(value, path, out)
        return
    raise UsageError(f"{path}: {type(value).__name__} is not JSON")


def _encode_object(value: dict[Any, Any], path: str, out: list[str]) -> None:
    if not all(isinstance(key, str) for key in value):
        raise UsageError(f"{path}: object keys must be strings")
    out.append("{")
    for i, key in enumerate(sorted(value, key=_utf16_key)):
        out.append(("," if i else "") + _string(key, path) + ":")
        _encode(value[key], f"{path}.{key}", out)
    out.append("}")


def canonical_json(value: Any) -> bytes:
    """The canonical encoding of ``value`` (see the module docstring).

    Args:
        value: ``None``, ``bool``, ``int``, ``str``, lists/tuples and ``str``-keyed dicts.

    Raises:
        UsageError: a float, an out-of-range integer, a lone surrogate, a non-string key or a
            value that is not JSON.
    """
    out: list[str] = []
    _encode(value, "$", out)
    return "".join(out).encode("utf-8")


def _coerce_kind(kind: EntryKind | str) -> EntryKind:
    try:
        return EntryKind(kind)
    except ValueError as exc:
        known = ", ".join(k.value for k in EntryKind)
        raise UsageError(f"unknown entry kind {kind!r} (known: {known})") from exc


@dataclass(frozen=True)
class Entry:
    """One record: what kind, what happened (``body``, e.g. a ``to_dict()``), and when.

    Args:
        kind: an :class:`EntryKind` or its string value.
        body: a JSON object (see :func:`canonical_json` for what is allowed).
        time: a timezone-aware time; stored in UTC with microseconds (RFC 3339).
    """

    kind: EntryKind
    body: dict[str, Any] = field(hash=False)
    time: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", _coerce_kind(self.kind))
        if not isinstance(self.body, dict):
            raise UsageError("Entry.body must be a JSON object (a dict)")
        if self.time.tzinfo is None or self.time.utcoffset() is None:
            raise UsageError("Entry.time must be timezone-aware")

    def to_dict(self) -> dict[str, Any]:
        """The version-1 envelope: ``{"v", "kind", "time", "body"}``."""
        stamp = self.time.astimezone(UTC).strftime(_TIME_FORMAT)
        return {"v": ENTRY_VERSION, "kind": self.kind.value, "time": stamp, "body": self.body}

    def encode(self) -> bytes:
        """The exact bytes stored and hashed: the canonical JSON of :meth:`to_dict`."""
        data = canonical_json(self.to_dict())
        if len(data) > MAX_ENTRY_BYTES:
            raise UsageError(f"entry is {len(data)} bytes; the limit is {MAX_ENTRY_BYTES}")
        return data


def parse_entry(data: bytes) -> Entry:
    """Parse stored entry bytes back into an :class:`Entry`.

    The bytes must be exactly the canonical encoding of a version-1 envelope, so that
    ``parse_entry(b).encode() == b`` always holds.

    Raises:
        VerificationError: the bytes are not a canonical version-1 entry.
    """
    try:
        raw = json.loads(data)
        if not isinstance(raw, dict) or raw.get("v") != ENTRY_VERSION:
            raise ValueError(f"unsupported entry version {raw.get('v')!r}")
        if set(raw) != {"v", "kind", "time", "body"} or not _TIME.match(raw["time"]):
            raise ValueError("not a version-1 envelope")
        when = datetime.strptime(raw["time"], _TIME_FORMAT).replace(tzinfo=UTC)
        entry = Entry(EntryKind(raw["kind"]), raw["body"], when)
        canonical = entry.encode()
    except (ValueError, KeyError, TypeError, AttributeError, UsageError) as exc:
        raise VerificationError(f"malformed ledger entry: {exc}") from exc
    if canonical != data:
        raise VerificationError("ledger entry is not in canonical form")
    return entry
