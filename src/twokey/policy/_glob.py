"""Globs for refs and for owned paths, compiled once to regular expressions.

Two dialects share one translator (docs/policy.md, "Globs"):

* ``GlobKind.REF``: a full ref such as ``refs/heads/release/*``. ``*`` and ``?`` stay inside one
  ``/``-separated segment, ``**`` crosses segments. The whole ref must match.
* ``GlobKind.PATH``: CODEOWNERS/gitignore-like owned paths. A pattern without an inner ``/``
  matches a name at any depth (``*.md``); a leading ``/`` or an inner ``/`` anchors it at the
  repository root (``/docs``, ``deploy/**``); a trailing ``/`` means "everything below this
  directory". A pattern that matches a directory also matches everything below it, as in
  gitignore: an owner of ``docs/*`` owns ``docs/a/b.md`` too. Owning too much asks for one
  approval too many; owning too little would let a change through (fail closed).
"""

from __future__ import annotations

__all__ = ["GlobError", "GlobKind", "glob_to_regex", "path_glob", "ref_glob"]

import enum
import re
from typing import assert_never

# Character classes and braces are not in the schema: refusing them beats guessing their meaning.
_BAD = re.compile(r"[\[\]{}\\]|\*\*\*|//")


class GlobError(ValueError):
    """A glob that cannot be compiled; the message says why."""


class GlobKind(enum.StrEnum):
    """Which dialect a glob is written in."""

    REF = "ref"
    PATH = "path"


def glob_to_regex(pattern: str, kind: GlobKind) -> re.Pattern[str]:
    """Compile ``pattern`` of dialect ``kind``; use the result with ``fullmatch``.

    Args:
        pattern: the glob as written in the policy (refs already expanded to ``refs/...``).
        kind: ``GlobKind.REF`` or ``GlobKind.PATH``.

    Raises:
        GlobError: the pattern is empty, padded, uses unsupported syntax, or (refs) does not
            start with ``refs/``.
    """
    _check(pattern)
    match kind:
        case GlobKind.REF:
            return re.compile(_ref_regex(pattern))
        case GlobKind.PATH:
            return re.compile(_path_regex(pattern))
        case _:
            assert_never(kind)


def ref_glob(pattern: str) -> re.Pattern[str]:
    """Shorthand for ``glob_to_regex(pattern, GlobKind.REF)``."""
    return glob_to_regex(pattern, GlobKind.REF)


def path_glob(pattern: str) -> re.Pattern[str]:
    """Shorthand for ``glob_to_regex(pattern, GlobKind.PATH)``."""
    return glob_to_regex(pattern, GlobKind.PATH)


def _check(pattern: str) -> None:
    if not pattern or pattern != pattern.strip():
        raise GlobError("empty or padded pattern")
    if _BAD.search(pattern):
        raise GlobError("character classes, braces, backslashes, '***' and '//' are not supported")


def _ref_regex(pattern: str) -> str:
    if not pattern.startswith("refs/"):
        raise GlobError("a ref pattern must start with 'refs/'")
    if pattern.endswith("/"):
        raise GlobError("a ref pattern may not end with '/'")
    return _translate(pattern)


def _path_regex(pattern: str) -> str:
    directory = pattern.endswith("/")
    body = pattern.strip("/")
    if not body:
        raise GlobError("pattern names no path")
    anchored = pattern.startswith("/") or "/" in body
    regex = _translate(body)
    if not anchored:
        regex = f"(?:.*/)?{regex}"
    return regex + ("/.*" if directory else "(?:/.*)?")


def _translate(pattern: str) -> str:
    """``**`` matches across ``/`` (``a/**/b`` also matches ``a/b``); ``*``, ``?`` do not."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)
