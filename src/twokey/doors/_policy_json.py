"""A compiled policy as plain JSON, for the server's compiled-policy cache (no pickle).

The form is generic over the frozen dataclasses, enums and containers the policy is made of,
so a new policy field needs no change here. Reading it can only build allow-listed classes of
``twokey.policy`` and ``twokey.model`` through their constructors (which check their
invariants), never run code or import anything else. Whatever the form cannot express raises
:class:`UnsupportedError`, and the caller simply compiles the policy instead.
"""

from __future__ import annotations

__all__ = ["UnsupportedError", "decode", "encode"]

import dataclasses
import enum
import importlib
import json
import re
from collections.abc import Mapping
from datetime import datetime, time
from types import MappingProxyType
from typing import Any

from twokey.policy import Glob, GlobKind, glob_to_regex

_MODULES = ("twokey.policy.", "twokey.model.")


class UnsupportedError(ValueError):
    """The value has no JSON form here, or the JSON is not one this module wrote."""


def encode(value: object) -> Any:
    """``value`` as JSON data (tagged objects for everything but str, int, bool, None)."""
    if value is None or (isinstance(value, str | bool | int) and not isinstance(value, enum.Enum)):
        return value
    if isinstance(value, Glob):  # compiled again from its pattern: the automaton is internal
        return {"g": value.pattern, "k": value.kind.value}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"d": _name(type(value)), "f": _fields(value)}
    for kind, write in _ENCODERS:
        if isinstance(value, kind):
            return write(value)
    raise UnsupportedError(f"no JSON form for {type(value).__name__}")


def _set(value: frozenset[Any]) -> dict[str, Any]:
    items = [encode(v) for v in value]
    return {"s": sorted(items, key=lambda i: json.dumps(i, sort_keys=True))}


def _pairs(value: Mapping[Any, Any]) -> dict[str, Any]:
    pairs = [[encode(k), encode(v)] for k, v in value.items()]
    return {"m": pairs, "p": isinstance(value, MappingProxyType)}


# Checked in order: an enum before anything it subclasses (StrEnum is a str).
_ENCODERS: tuple[tuple[type[Any], Any], ...] = (
    (enum.Enum, lambda v: {"e": _name(type(v)), "v": v.value}),
    (tuple, lambda v: {"t": [encode(i) for i in v]}),
    (frozenset, _set),
    (Mapping, _pairs),
    (re.Pattern, lambda v: {"re": v.pattern, "fl": v.flags}),
    (datetime, lambda v: {"dt": v.isoformat()}),
    (time, lambda v: {"tm": v.isoformat()}),
)


def _fields(value: Any) -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(value):
        if not f.init:
            raise UnsupportedError(f"{type(value).__name__}.{f.name} is not a constructor field")
        out[f.name] = encode(getattr(value, f.name))
    return out


def _name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def decode(data: Any) -> Any:
    """The value :func:`encode` wrote (raises :class:`UnsupportedError` for anything else)."""
    if data is None or isinstance(data, str | bool | int):
        return data
    if not isinstance(data, dict):
        raise UnsupportedError("not a tagged value")
    tags = [key for key in data if key in _DECODERS]  # one tag; "f", "v", "p", "fl", "k" beside
    if len(tags) != 1:
        raise UnsupportedError(f"not a tagged value: {sorted(data)[:4]}")
    return _DECODERS[tags[0]](data)


def _class(name: object, kind: str) -> Any:
    module, _, qualname = str(name).partition(":")
    if not module.startswith(_MODULES) or "." in qualname:
        raise UnsupportedError(f"{name!r} is not a twokey policy or model class")
    cls = getattr(importlib.import_module(module), qualname, None)
    ok = dataclasses.is_dataclass(cls) if kind == "d" else isinstance(cls, enum.EnumMeta)
    if not ok:
        raise UnsupportedError(f"{name!r} is not a twokey policy or model class")
    return cls


def _dataclass(data: dict[str, Any]) -> Any:
    fields = data.get("f")
    if not isinstance(fields, dict):
        raise UnsupportedError("dataclass without fields")
    try:
        return _class(data["d"], "d")(**{k: decode(v) for k, v in fields.items()})
    except TypeError as exc:
        raise UnsupportedError(str(exc)) from exc


def _mapping(data: dict[str, Any]) -> Mapping[Any, Any]:
    built = {decode(k): decode(v) for k, v in data["m"]}
    return MappingProxyType(built) if data.get("p") else built


_DECODERS: dict[str, Any] = {
    "e": lambda d: _class(d["e"], "e")(d["v"]),
    "d": _dataclass,
    "t": lambda d: tuple(decode(v) for v in d["t"]),
    "s": lambda d: frozenset(decode(v) for v in d["s"]),
    "m": _mapping,
    "re": lambda d: re.compile(str(d["re"]), int(d["fl"])),
    "g": lambda d: glob_to_regex(str(d["g"]), GlobKind(str(d["k"]))),
    "dt": lambda d: datetime.fromisoformat(str(d["dt"])),
    "tm": lambda d: time.fromisoformat(str(d["tm"])),
}
