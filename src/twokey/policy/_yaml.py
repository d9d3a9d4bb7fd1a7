"""The plain YAML that policies are written in, read without a YAML library (ADR 0034).

A door in a CI clone compiles the policy on every run (no cache is trusted there, ADR 0014),
and ruamel.yaml's import and pure-Python parse were about a fifth of a deploy check's
instructions. Policies use a small part of YAML: block mappings and sequences, one-line flow
collections, plain and one-line quoted scalars, comments. This module reads exactly that part
and builds what ruamel's round-trip loader (``YAML(typ="rt", pure=True)``, YAML 1.2) builds for
it: mappings and lists with ``lc`` positions (``lc.line``, ``lc.col``, ``lc.key(k)``,
``lc.value(k)``, ``lc.item(i)``, 0-based), strings, ``None``, booleans and decimal integers,
resolved by ruamel's own YAML 1.2 rules (the expressions below are its, a test compares them).

Anything else returns ``None`` and the loader asks ruamel, so the answer is always ruamel's:
anchors, aliases, tags, merge keys, block scalars (``|``, ``>``), multi-line scalars or flow
collections, escapes in double quotes, floats, timestamps, other integer forms, an empty
(null) value in a flow collection or with a comment after its key, duplicate keys, directives
and document markers, a byte order mark, tabs, CRs, NEL, the Unicode line separators and the
few characters ruamel prints but Python does not (NBSP, ...), any text ruamel would refuse
(every error message and position stays ruamel's), and nesting deeper than ``_MAX_DEPTH``.
Being outside costs time, never a different answer; a hypothesis test compares both readers
on generated documents.
"""

from __future__ import annotations

__all__ = ["LineCol", "Map", "Seq", "parse"]

import re
from typing import Any

# Characters that may not start a plain scalar here (YAML's indicators; '-', '?' and ':' may
# start one when a non-space follows, but such scalars are left to ruamel).
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_FLOW_END = frozenset(",[]{}")
_MAX_DEPTH = 40  # deeper documents go to ruamel (the loader refuses beyond 32 either way)
_MAX_KEY = 1000  # ruamel refuses a key whose ':' is more than 1024 characters from its start

# ruamel.yaml.resolver's implicit resolvers for YAML 1.2, in its order: (tag, expression, the
# first characters it is tried for). tests/unit/policy/test_yaml.py checks they are still its.
_RESOLVERS = (
    ("bool", "^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (
        "float",
        """^(?:
         [-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\\.(?:inf|Inf|INF)
        |\\.(?:nan|NaN|NAN))$""",
        "-+0123456789.",
    ),
    (
        "int",
        """^(?:[-+]?0b[0-1_]+
        |[-+]?0o?[0-7_]+
        |[-+]?[0-9_]+
        |[-+]?0x[0-9a-fA-F_]+)$""",
        "-+0123456789",
    ),
    ("merge", "^(?:<<)$", "<"),
    (
        "null",
        """^(?: ~
        |null|Null|NULL
        | )$""",
        "~nN",
    ),
    (
        "timestamp",
        """^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
        (?:[Tt]|[ \\t]+)[0-9][0-9]?
        :[0-9][0-9] :[0-9][0-9] (?:\\.[0-9]*)?
        (?:[ \\t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
        "0123456789",
    ),
    ("value", "^(?:=)$", "="),
    ("yaml", "^(?:!|&|\\*)$", "!&*"),
)
_BY_FIRST: dict[str, list[int]] = {}  # the resolvers (indices) tried for a first character
for _index, (_tag, _expression, _firsts) in enumerate(_RESOLVERS):
    for _first in _firsts:
        _BY_FIRST.setdefault(_first, []).append(_index)
_COMPILED: dict[int, re.Pattern[str]] = {}  # compiled when first needed (0.1-0.3 ms each)
# Integers ruamel builds as a plain ``int`` (and 0, which it builds as ``ScalarInt(0)``: an int
# that only remembers its width for dumping). Other forms (007, 1_000, 0x1F, 0o17) are outside.
# Only "float" is tried before "int" for text starting with a digit or a sign, and it needs a
# '.' or an exponent: such text is ruamel's int without trying the expressions (_decimal).
_BOOLEANS = {"true": True, "false": False}


class Outside(Exception):  # noqa: N818 - not an error: the text is ruamel's to read
    """The text uses YAML outside what this module reads: ruamel reads it."""


class LineCol:
    """Positions as ruamel's ``LineCol`` gives them (0-based line and column)."""

    __slots__ = ("col", "data", "line")

    def __init__(self, line: int, col: int) -> None:
        self.line = line
        self.col = col
        self.data: dict[Any, list[int]] | None = None  # None while empty, as ruamel's

    def key(self, k: Any) -> tuple[int, int] | None:
        """Where the key ``k`` starts."""
        if self.data is None:
            return None
        data = self.data[k]
        return data[0], data[1]

    def value(self, k: Any) -> tuple[int, int] | None:
        """Where the value of the key ``k`` starts."""
        if self.data is None:
            return None
        data = self.data[k]
        return data[2], data[3]

    def item(self, idx: int) -> tuple[int, int] | None:
        """Where item ``idx`` starts."""
        if self.data is None:
            return None
        data = self.data[idx]
        return data[0], data[1]


class Map(dict[Any, Any]):
    """A YAML mapping with its positions (``lc``), as ruamel's ``CommentedMap`` carries them."""

    __slots__ = ("lc",)

    def __init__(self, line: int, col: int) -> None:
        super().__init__()
        self.lc = LineCol(line, col)


class Seq(list[Any]):
    """A YAML sequence with its positions (``lc``), as ruamel's ``CommentedSeq`` carries them."""

    __slots__ = ("lc",)

    def __init__(self, line: int, col: int) -> None:
        super().__init__()
        self.lc = LineCol(line, col)


def parse(data: bytes) -> Map | None:
    """The document in ``data`` as ruamel's round-trip loader reads it; ``None`` when outside
    what this module reads (then ruamel must read it)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        return _Reader(text).document()
    except Outside:
        return None


def _scalar(text: str) -> Any:
    """A plain scalar, resolved as ruamel resolves YAML 1.2 (the core schema)."""
    tried = _BY_FIRST.get(text[0])
    if tried is None:
        return text  # most words: no resolver is tried for their first character
    if _decimal(text):
        return int(text)
    for index in tried:
        expression = _COMPILED.get(index)
        if expression is None:
            expression = _COMPILED[index] = re.compile(_RESOLVERS[index][1], re.X)
        if expression.match(text):
            tag = _RESOLVERS[index][0]
            if tag == "bool":
                return _BOOLEANS[text.lower()]
            if tag == "null":
                return None
            raise Outside  # int (other forms), float, timestamp, merge, value
    return text


def _decimal(text: str) -> bool:
    """Whether ``text`` is ``[-+]?(0|[1-9][0-9]*)`` (a regular expression costs 0.1 ms to
    compile at every start)."""
    digits = text[1:] if text[0] in "+-" else text
    return digits.isascii() and digits.isdigit() and (digits == "0" or digits[0] != "0")


def _line_end(line: str, end: int) -> None:
    """Only spaces, then the end of the line or a comment, may follow ``end``."""
    rest = line[end:]
    stripped = rest.lstrip(" ")
    if stripped and (stripped[0] != "#" or len(stripped) == len(rest)):
        raise Outside


def _skip(line: str, at: int) -> int:
    while at < len(line) and line[at] == " ":
        at += 1
    return at


def _quoted(line: str, at: int) -> tuple[str, int]:
    """A quoted scalar on one line starting at ``at`` (its quote): its value and its end."""
    if line[at] == '"':
        end = line.find('"', at + 1)
        if end < 0 or "\\" in line[at + 1 : end]:
            raise Outside  # on more lines, or escapes
        return line[at + 1 : end], end + 1
    parts = []
    start = at + 1
    while True:
        end = line.find("'", start)
        if end < 0:
            raise Outside  # on more lines
        if line.startswith("''", end):
            parts.append(line[start : end + 1])
            start = end + 2
            continue
        parts.append(line[start:end])
        return "".join(parts), end + 1


def _plain_key_end(line: str, at: int) -> int:
    """Where the ``:`` after a plain key starting at ``at`` is, or -1 if it is not a key."""
    stop = line.find(" #", at)
    stop = len(line) if stop < 0 else stop
    search = at
    while True:
        colon = line.find(":", search, stop)
        if colon < 0:
            return -1
        if colon + 1 == len(line) or line[colon + 1] == " ":
            return colon
        search = colon + 1


class _Reader:
    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.count = len(self.lines)
        for line in self.lines:
            if line.startswith(("---", "...", "%")):
                raise Outside  # document markers and directives
            # Python's printable characters are all in ruamel's printable set, and exclude its
            # tab, line breaks (CR, NEL, U+2028, U+2029) and the byte order mark (a format
            # character); the few printable for ruamel but not for Python (NBSP, soft hyphen,
            # private use, unassigned) are outside here.
            if not line.isprintable():
                raise Outside

    def content(self, at: int) -> int:
        """The first line from ``at`` with something other than spaces and a comment."""
        lines = self.lines
        while at < self.count:
            stripped = lines[at].lstrip(" ")
            if stripped and stripped[0] != "#":
                return at
            at += 1
        return at

    def indent(self, at: int) -> int:
        line = self.lines[at]
        return len(line) - len(line.lstrip(" "))

    def entry(self, at: int, col: int) -> bool:
        """Whether line ``at`` holds a block sequence entry (``-``) at column ``col``."""
        line = self.lines[at]
        return line.startswith("-", col) and (len(line) == col + 1 or line[col + 1] == " ")

    def document(self) -> Map:
        at = self.content(0)
        if at == self.count or self.entry(at, self.indent(at)):
            raise Outside  # empty, or not a mapping: ruamel's error
        doc, at = self.mapping(at, self.indent(at), 1)
        if self.content(at) != self.count:
            raise Outside  # less indented than the top mapping: ruamel's error
        return doc

    def block(self, at: int, depth: int) -> tuple[Any, int, int]:
        """The block collection whose first line is ``at``: node, its column, the next line."""
        col = self.indent(at)
        node: Seq | Map
        if self.entry(at, col):
            node, after = self.sequence(at, col, depth)
        else:
            node, after = self.mapping(at, col, depth)
        return node, col, after

    def key(self, line: str, at: int, col: int) -> tuple[Any, int]:
        """The key starting at ``col`` of ``line`` and where its ``:`` ends."""
        first = line[col]
        if first in "\"'":
            key, end = _quoted(line, col)
            if end - col >= _MAX_KEY or not line.startswith(":", end):
                raise Outside
            if not (end + 1 == len(line) or line[end + 1] == " "):
                raise Outside
            return key, end + 1
        if first in _INDICATORS:
            raise Outside
        colon = _plain_key_end(line, col)
        text = line[col:colon]
        if colon < 0 or text.endswith(" ") or len(text) >= _MAX_KEY:
            raise Outside
        return _scalar(text), colon + 1

    def mapping(self, at: int, col: int, depth: int) -> tuple[Map, int]:
        """The block mapping whose first key is at line ``at``, column ``col``."""
        if depth > _MAX_DEPTH:
            raise Outside
        node = Map(at, col)
        positions: dict[Any, list[int]] = {}
        while True:
            line = self.lines[at]
            if self.entry(at, col):
                raise Outside  # a sequence where a key belongs: ruamel's error
            key, end = self.key(line, at, col)
            if key in node:
                raise Outside  # a duplicate key: ruamel's error
            key_line = at
            value, vline, vcol, at = self.value(at, end, col, depth)
            node[key] = value
            positions[key] = [key_line, col, vline, vcol]
            at = self.content(at)
            if at == self.count or self.indent(at) < col:
                break
            if self.indent(at) > col:
                raise Outside  # a continued scalar, or ruamel's error
        node.lc.data = positions
        return node, at

    def value(self, at: int, end: int, col: int, depth: int) -> tuple[Any, int, int, int]:
        """The value after a key's ``:`` (line ``at``, column ``end``) of the mapping at
        ``col``: value, its line and column, and the line after it."""
        line = self.lines[at]
        start = _skip(line, end)
        if start == len(line) or line[start] == "#":
            below = self.content(at + 1)
            if below < self.count:
                indent = self.indent(below)
                if indent > col or (indent == col and self.entry(below, col)):
                    node, vcol, after = self.block(below, depth + 1)
                    return node, below, vcol, after
            if start < len(line):
                raise Outside  # an empty value with a comment: ruamel places it by the comment
            # An empty value (null): ruamel places it where the next token starts (the next
            # key, or the end of the block or of the text).
            if below < self.count:
                return None, below, self.indent(below), at + 1
            return None, self.count - 1, len(self.lines[-1]), at + 1
        return (*self.inline(line, at, start, depth), at + 1)

    def inline(self, line: str, at: int, start: int, depth: int) -> tuple[Any, int, int]:
        """A value that starts at ``start`` of line ``at`` and ends on it."""
        first = line[start]
        if first in "[{":
            value, end = self.flow(line, at, start, depth + 1)
        elif first in "\"'":
            value, end = _quoted(line, start)
        elif first in _INDICATORS:
            raise Outside
        else:
            stop = line.find(" #", start)
            text = line[start : len(line) if stop < 0 else stop].rstrip(" ")
            if ": " in text or text.endswith(":"):
                raise Outside  # a mapping where a value belongs: ruamel's error
            value, end = _scalar(text), start + len(text)
        _line_end(line, end)
        return value, at, start

    def sequence(self, at: int, col: int, depth: int) -> tuple[Seq, int]:
        """The block sequence whose first ``-`` is at line ``at``, column ``col``."""
        if depth > _MAX_DEPTH:
            raise Outside
        node = Seq(at, col)
        positions: dict[Any, list[int]] = {}
        while True:
            line = self.lines[at]
            start = _skip(line, col + 1)
            if start == len(line) or line[start] == "#":
                below = self.content(at + 1)
                if below == self.count or self.indent(below) <= col:
                    value, vline, vcol = None, at, col + 1  # an empty item (null), after "-"
                    at += 1
                else:
                    value, vcol, at = self.block(below, depth + 1)
                    vline = below
            elif self.entry(at, start):
                raise Outside  # "- - x": left to ruamel
            elif self.compact(line, start):
                vline, vcol = at, start
                value, at = self.mapping(at, start, depth + 1)
            else:
                value, vline, vcol = self.inline(line, at, start, depth)
                at += 1
            positions[len(node)] = [vline, vcol]
            node.append(value)
            at = self.content(at)
            if at == self.count or self.indent(at) < col:
                break
            if self.indent(at) > col:
                raise Outside  # a continued scalar, or ruamel's error
            if not self.entry(at, col):
                break  # the mapping holding this sequence goes on
        node.lc.data = positions
        return node, at

    def compact(self, line: str, start: int) -> bool:
        """Whether a sequence item starting at ``start`` is a mapping (``- key: value``)."""
        first = line[start]
        if first in "\"'":
            end = _quoted(line, start)[1]
            return line.startswith(":", end)
        return first not in _INDICATORS and _plain_key_end(line, start) >= 0

    def flow(self, line: str, at: int, start: int, depth: int) -> tuple[Any, int]:
        """The flow collection starting at ``start`` (its bracket), on one line."""
        if depth > _MAX_DEPTH:
            raise Outside
        closing = "]" if line[start] == "[" else "}"
        node: Seq | Map = Seq(at, start)
        if closing == "}":
            node = Map(at, start)
        positions: dict[Any, list[int]] = {}
        here = _skip(line, start + 1)
        if line.startswith(closing, here):
            return node, here + 1
        while True:
            if isinstance(node, Seq):
                value, end = self.flow_node(line, at, here, depth)
                positions[len(node)] = [at, here]
                node.append(value)
            else:
                key, key_end = self.flow_key(line, here)
                value_at = _skip(line, key_end)
                if value_at == len(line) or line[value_at] in ",}":
                    raise Outside  # an empty value (null)
                value, end = self.flow_node(line, at, value_at, depth)
                if key in node:
                    raise Outside  # a duplicate key: ruamel's error
                node[key] = value
                positions[key] = [at, here, at, value_at]
            here = _skip(line, end)
            if here == len(line):
                raise Outside  # on more lines
            if line[here] == closing:
                node.lc.data = positions
                return node, here + 1
            if line[here] != ",":
                raise Outside
            here = _skip(line, here + 1)
            if here == len(line) or line[here] in "]}":
                raise Outside  # a trailing comma, or on more lines

    def flow_key(self, line: str, at: int) -> tuple[Any, int]:
        """A key in a flow mapping and where its ``:`` and the space after it end."""
        if at == len(line):
            raise Outside
        if line[at] in "\"'":
            key, end = _quoted(line, at)
        elif line[at] in _INDICATORS:
            raise Outside
        else:
            end = at
            while end < len(line) and line[end] not in ",[]{}:#":
                end += 1
            text = line[at:end]
            if text.endswith(" "):
                raise Outside
            key = _scalar(text)
        if end - at >= _MAX_KEY or not line.startswith(": ", end):
            raise Outside
        return key, end + 2

    def flow_node(self, line: str, at: int, start: int, depth: int) -> tuple[Any, int]:
        """A value in a flow collection, starting at ``start``: value and its end."""
        if start == len(line):
            raise Outside
        first = line[start]
        if first in "[{":
            return self.flow(line, at, start, depth + 1)
        if first in "\"'":
            return _quoted(line, start)
        if first in _INDICATORS:
            raise Outside
        end = start
        while end < len(line) and line[end] not in _FLOW_END:
            end += 1
        text = line[start:end].rstrip(" ")
        if ":" in text or "#" in text:
            raise Outside  # a pair, a comment, or ruamel's rules for ':' in flow
        return _scalar(text), start + len(text)
