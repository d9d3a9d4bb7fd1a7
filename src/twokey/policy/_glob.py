"""Globs for refs and for owned paths, compiled once to a linear-time matcher.

Two dialects share one translator (docs/policy.md, "Globs"):

* ``GlobKind.REF``: a full ref such as ``refs/heads/release/*``. ``*`` and ``?`` stay inside one
  ``/``-separated segment, ``**`` crosses segments. The whole ref must match.
* ``GlobKind.PATH``: CODEOWNERS/gitignore-like owned paths. A pattern without an inner ``/``
  matches a name at any depth (``*.md``); a leading ``/`` or an inner ``/`` anchors it at the
  repository root (``/docs``, ``deploy/**``); a trailing ``/`` means "everything below this
  directory". A pattern that matches a directory also matches everything below it, as in
  gitignore: an owner of ``docs/*`` owns ``docs/a/b.md`` too. Owning too much asks for one
  approval too many; owning too little would let a change through (fail closed).

Why not ``re``: a glob with several ``**`` became a regex with several ``.*``, and Python's
backtracking engine took seconds on one long path (a push can name any path). The glob is
instead compiled to a small NFA and run as a lazily built DFA (Thompson's construction), so a
match costs O(len(subject) * len(pattern)) at worst and one dictionary lookup per character
once warm, whatever the subject. Every wildcard matches every character but ``/``, including a
newline or an undecodable byte, so a path such as ``deploy/evil\\n.yml`` is owned like any other.

Patterns that can never match a git ref or a git path are errors, not silent no-ops
(git-check-ref-format(1); git refuses ``.``, ``..`` and ``.git`` as path components).
"""

from __future__ import annotations

__all__ = [
    "MAX_PATTERN",
    "Glob",
    "GlobError",
    "GlobKind",
    "OverlapBudget",
    "glob_to_regex",
    "overlap",
    "path_glob",
    "ref_glob",
]

import enum
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import assert_never

# Character classes and braces are not in the schema: refusing them beats guessing their meaning.
_BAD = re.compile(r"[\[\]{}\\]|\*\*\*|//")
# git-check-ref-format(1): characters no ref name holds (wildcards * and ? are ours).
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:]|@\{|\.\.")
_MAX_DFA = 4096  # DFA states per glob; past it, the NFA is simulated for each subject
MAX_PATTERN = 1024  # characters: no ref or owned path pattern is longer (a pushed policy is input)
_MAX_PAIRS = 50_000  # state pairs overlap() explores for one policy before it gives up
_Pair = tuple[frozenset[int], frozenset[int]]

# NFA edge labels: one literal character, any character but "/", or any character at all.
_WILD = re.compile(r"[*?]")
_NOT_SLASH = "\0not-slash"
_ANY = "\0any"


class GlobError(ValueError):
    """A glob that cannot be compiled, or that could never match; the message says why."""


class GlobKind(enum.StrEnum):
    """Which dialect a glob is written in."""

    REF = "ref"
    PATH = "path"


@dataclass(frozen=True, slots=True)
class _Nfa:
    """States 0..n-1; ``edges[s]`` are (label, target); ``eps[s]`` the empty moves."""

    edges: tuple[tuple[tuple[str, int], ...], ...]
    eps: tuple[tuple[int, ...], ...]
    accept: int


class _Builder:
    """Appends states to an NFA under construction; each new state starts unconnected."""

    def __init__(self) -> None:
        self.edges: list[list[tuple[str, int]]] = [[]]
        self.eps: list[list[int]] = [[]]

    def new(self) -> int:
        self.edges.append([])
        self.eps.append([])
        return len(self.edges) - 1

    def step(self, at: int, label: str) -> int:
        """A move from ``at`` on ``label`` to a new state, returned."""
        target = self.new()
        self.edges[at].append((label, target))
        return target

    def loop(self, at: int, label: str) -> int:
        """Any number of ``label`` from ``at``, then a new state (returned)."""
        self.edges[at].append((label, at))
        out = self.new()
        self.eps[at].append(out)
        return out

    def dirs(self, at: int) -> int:
        """``(?:.*/)?``: nothing, or anything ending in ``/``."""
        inside = self.new()
        out = self.new()
        self.eps[at] += [inside, out]
        self.edges[inside] += [(_ANY, inside), ("/", out)]
        return out

    def done(self, accept: int) -> _Nfa:
        return _Nfa(tuple(map(tuple, self.edges)), tuple(map(tuple, self.eps)), accept)


class _OverflowError(Exception):
    """The DFA outgrew ``_MAX_DFA`` states: simulate the NFA for this subject instead."""


@dataclass(eq=False)
class Glob:
    """A compiled glob. ``pattern`` is the glob as written; ``fullmatch`` mirrors ``re``'s.

    Matching runs a DFA built lazily from the NFA: states are numbered sets of NFA states, and
    each (state, character class) transition is computed once, under a lock (a policy is shared
    by threads). The cost is one dictionary lookup per character of the subject; a subject
    without the pattern's longest literal run is refused before that (a substring test).
    """

    pattern: str
    kind: GlobKind
    _nfa: _Nfa = field(repr=False)
    _literals: frozenset[str] = field(repr=False)
    _needle: str = field(repr=False, default="")
    _head: str = field(init=False, repr=False)  # the literal text before the first wildcard
    _tail: str = field(init=False, repr=False)  # ... and after the last one
    _start: frozenset[int] = field(init=False, repr=False)
    _labels: frozenset[str] = field(init=False, repr=False)
    _ids: dict[frozenset[int], int] = field(init=False, repr=False, default_factory=dict)
    _sets: list[frozenset[int]] = field(init=False, repr=False, default_factory=list)
    _table: list[dict[str, int]] = field(init=False, repr=False, default_factory=list)
    _accepting: list[bool] = field(init=False, repr=False, default_factory=list)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._start = self._closure({0})
        self._labels = self._literals | {"/"}
        self._head = _WILD.split(self.pattern, 1)[0]
        self._tail = _WILD.split(self.pattern)[-1]
        self._state(self._start)

    def __eq__(self, other: object) -> bool:
        # As re.Pattern: two globs are equal when written alike (the matcher follows).
        if not isinstance(other, Glob):
            return NotImplemented
        return (self.pattern, self.kind) == (other.pattern, other.kind)

    def __hash__(self) -> int:
        return hash((self.pattern, self.kind))

    def __getstate__(self) -> dict[str, object]:
        # Pickle the pattern and automaton, not the lock or the learnt DFA.
        return {"pattern": self.pattern, "kind": self.kind, "nfa": self._nfa,
                "literals": self._literals, "needle": self._needle}  # fmt: skip

    def __setstate__(self, state: dict[str, object]) -> None:
        fresh = Glob(
            str(state["pattern"]),
            GlobKind(str(state["kind"])),
            state["nfa"],  # type: ignore[arg-type]
            state["literals"],  # type: ignore[arg-type]
            str(state["needle"]),
        )
        self.__dict__.update(fresh.__dict__)

    def matches(self, subject: str) -> bool:
        """True when the whole of ``subject`` matches."""
        if self._needle not in subject:
            return False
        table, labels = self._table, self._labels
        state = 0
        try:
            for char in subject:
                label = char if char in labels else _NOT_SLASH
                found = table[state].get(label)
                if found is None:
                    found = self._learn(state, label, char)
                if found < 0:
                    return False
                state = found
        except _OverflowError:
            return self._simulate(subject)
        return self._accepting[state]

    def fullmatch(self, subject: str) -> str | None:
        """``subject`` when it matches as a whole, else None (as ``re.Pattern.fullmatch``)."""
        return subject if self.matches(subject) else None

    def _learn(self, state: int, label: str, char: str) -> int:
        """The DFA state after ``state`` on ``char`` (-1: no match is possible any more)."""
        with self._lock:
            moved = self._move(self._sets[state], char)
            found = self._state(moved) if moved else -1
            self._table[state][label] = found
            return found

    def _state(self, states: frozenset[int]) -> int:
        found = self._ids.get(states)
        if found is None:
            if len(self._sets) >= _MAX_DFA:
                raise _OverflowError
            found = len(self._sets)
            self._ids[states] = found
            self._sets.append(states)
            self._table.append({})
            self._accepting.append(self._nfa.accept in states)
        return found

    def _simulate(self, subject: str) -> bool:
        """The NFA run without a DFA: O(len(subject) * len(pattern)), for huge automata."""
        states = self._start
        for char in subject:
            states = self._move(states, char)
            if not states:
                return False
        return self._nfa.accept in states

    def _move(self, states: frozenset[int], char: str) -> frozenset[int]:
        edges = self._nfa.edges
        out = set()
        for state in states:
            for label, target in edges[state]:
                if label in (char, _ANY) or (label == _NOT_SLASH and char != "/"):
                    out.add(target)
        return self._closure(out)

    def _closure(self, states: set[int]) -> frozenset[int]:
        eps = self._nfa.eps
        todo = list(states)
        seen = set(states)
        while todo:
            for target in eps[todo.pop()]:
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return frozenset(seen)


def glob_to_regex(pattern: str, kind: GlobKind) -> Glob:
    """Compile ``pattern`` of dialect ``kind``; use the result with ``fullmatch``/``matches``.

    (The name is historical: the result is a :class:`Glob`, not a regular expression.)

    Args:
        pattern: the glob as written in the policy (refs already expanded to ``refs/...``).
        kind: ``GlobKind.REF`` or ``GlobKind.PATH``.

    Raises:
        GlobError: the pattern is empty, padded, uses unsupported syntax, (refs) does not
            start with ``refs/``, or could never match a ref or a path git can hold.
    """
    _check(pattern)
    match kind:
        case GlobKind.REF:
            nfa = _ref_nfa(pattern)
        case GlobKind.PATH:
            nfa = _path_nfa(pattern)
        case _:
            assert_never(kind)
    literals = frozenset(c for c in pattern if c not in "*?/")
    # Every match holds each literal run of the pattern: the longest one is a cheap filter.
    runs = re.split(r"\*\*/|\*\*|\*|\?", pattern.strip("/") if kind is GlobKind.PATH else pattern)
    return Glob(pattern, kind, nfa, literals, max(runs, key=len))


def ref_glob(pattern: str) -> Glob:
    """Shorthand for ``glob_to_regex(pattern, GlobKind.REF)``."""
    return glob_to_regex(pattern, GlobKind.REF)


def path_glob(pattern: str) -> Glob:
    """Shorthand for ``glob_to_regex(pattern, GlobKind.PATH)``."""
    return glob_to_regex(pattern, GlobKind.PATH)


def _check(pattern: str) -> None:
    if not pattern or pattern != pattern.strip():
        raise GlobError("empty or padded pattern")
    if len(pattern) > MAX_PATTERN:
        raise GlobError(f"pattern longer than {MAX_PATTERN} characters")
    if _BAD.search(pattern):
        raise GlobError("character classes, braces, backslashes, '***' and '//' are not supported")


def _ref_nfa(pattern: str) -> _Nfa:
    if not pattern.startswith("refs/"):
        raise GlobError("a ref pattern must start with 'refs/'")
    if pattern.endswith("/"):
        raise GlobError("a ref pattern may not end with '/'")
    _check_ref_format(pattern)
    builder = _Builder()
    return builder.done(_translate(builder, 0, pattern))


def _check_ref_format(pattern: str) -> None:
    """Refuse what git-check-ref-format(1) never lets a ref name hold (it could never match)."""
    bad = _REF_FORBIDDEN.search(pattern)
    if bad:
        raise GlobError(f"no git ref can contain {bad.group()!r} (git check-ref-format)")
    if pattern.endswith("."):
        raise GlobError("no git ref ends with '.' (git check-ref-format)")
    for part in pattern.split("/"):
        if part.startswith("."):
            raise GlobError(f"no git ref component starts with '.': '{part}'")
        if part.endswith(".lock"):
            raise GlobError(f"no git ref component ends with '.lock': '{part}'")


def _path_nfa(pattern: str) -> _Nfa:
    directory = pattern.endswith("/")
    body = pattern.strip("/")
    if not body:
        raise GlobError("pattern names no path")
    for part in body.split("/"):
        if part in (".", "..") or part.lower() == ".git":
            raise GlobError(
                f"'{part}' is never a component of a path in a git tree: write the path "
                "from the repository root without it"
            )
    anchored = pattern.startswith("/") or "/" in body
    builder = _Builder()
    at = 0 if anchored else builder.dirs(0)
    at = _translate(builder, at, body)
    # A directory owns everything below it: "/.*" (trailing "/"), else "(?:/.*)?".
    below = builder.step(at, "/")
    builder.edges[below].append((_ANY, below))
    if directory:
        return builder.done(below)
    accept = builder.new()
    builder.eps[at].append(accept)
    builder.eps[below].append(accept)
    return builder.done(accept)


def _translate(builder: _Builder, at: int, pattern: str) -> int:
    """``**`` matches across ``/`` (``a/**/b`` also matches ``a/b``); ``*``, ``?`` do not."""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            at = builder.dirs(at)
            i += 3
        elif pattern.startswith("**", i):
            at = builder.loop(at, _ANY)
            i += 2
        elif pattern[i] == "*":
            at = builder.loop(at, _NOT_SLASH)
            i += 1
        elif pattern[i] == "?":
            at = builder.step(at, _NOT_SLASH)
            i += 1
        else:
            at = builder.step(at, pattern[i])
            i += 1
    return at


class OverlapBudget:
    """How many more state pairs :func:`overlap` may explore (shared by one policy's checks, so
    a pushed policy with many intricate patterns costs bounded time: fail closed past it)."""

    def __init__(self, pairs: int = _MAX_PAIRS) -> None:
        self.left = pairs

    @property
    def spent(self) -> bool:
        """True once the budget is used up."""
        return self.left <= 0


def overlap(first: Glob, second: Glob, budget: OverlapBudget | None = None) -> str | None:
    """A subject both globs match (the shortest), or None when no subject matches both.

    A breadth-first walk of the product of the two automata over the characters that matter:
    each glob's literals, ``/``, and one character neither glob names. When ``budget`` runs out
    the answer is the first pattern itself: "they may overlap" (fail closed; the caller checks
    ``budget.spent`` to say so).
    """
    budget = budget or OverlapBudget()
    if first.kind is GlobKind.REF and second.kind is GlobKind.REF and _apart(first, second):
        return None
    alphabet = sorted(first._literals | second._literals | {"/"})
    alphabet.append(next(c for c in "xyz0123456789" if c not in alphabet))
    start = (first._start, second._start)
    parent: dict[_Pair, tuple[_Pair | None, str]] = {start: (None, "")}
    todo = deque([start])
    while todo:
        pair = todo.popleft()
        if first._nfa.accept in pair[0] and second._nfa.accept in pair[1]:
            return _spell(parent, pair)
        budget.left -= 1
        if budget.spent:
            return first.pattern
        for char in alphabet:
            nxt = (first._move(pair[0], char), second._move(pair[1], char))
            if nxt[0] and nxt[1] and nxt not in parent:
                parent[nxt] = (pair, char)
                todo.append(nxt)
    return None


def _apart(first: Glob, second: Glob) -> bool:
    """Two ref globs whose literal heads (or tails) differ can share no ref: a quick answer
    before the product walk (policies list many ``release/1``, ``release/2``...)."""
    one, two = first._head, second._head
    if not (one.startswith(two) or two.startswith(one)):
        return True
    one, two = first._tail, second._tail
    return not (one.endswith(two) or two.endswith(one))


def _spell(parent: dict[_Pair, tuple[_Pair | None, str]], pair: _Pair) -> str:
    chars: list[str] = []
    before, char = parent[pair]
    while before is not None:
        chars.append(char)
        before, char = parent[before]
    return "".join(reversed(chars))
