"""Globs for refs and for owned paths, compiled once to regular expressions."""

from __future__ import annotations

__all__ = ["GlobError", "path_glob", "ref_glob"]

import re

_BAD = re.compile(r"[\[\]{}\\]|\*\*\*|//")


class GlobError(ValueError):
    """A glob that cannot be compiled."""


def _translate(pattern: str) -> str:
    """``**`` matches across ``/``; ``*`` and ``?`` stay inside one segment."""
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


def _check(pattern: str) -> None:
    if not pattern or pattern != pattern.strip():
        raise GlobError("empty or padded pattern")
    if _BAD.search(pattern):
        raise GlobError("character classes, braces, backslashes, '***' and '//' are not supported")


def ref_glob(pattern: str) -> re.Pattern[str]:
    """Compile a full ref pattern such as ``refs/heads/release/*`` or ``refs/tags/v*``."""
    _check(pattern)
    if not pattern.startswith("refs/"):
        raise GlobError("a ref pattern must start with 'refs/'")
    return re.compile(_translate(pattern))


def path_glob(pattern: str) -> re.Pattern[str]:
    """Compile a CODEOWNERS-like path pattern.

    A pattern without ``/`` (other than a trailing one) matches a name at any depth; a leading
    ``/`` anchors at the repository root; a trailing ``/`` means everything below a directory.
    """
    _check(pattern)
    directory = pattern.endswith("/")
    body = pattern.strip("/")
    if not body:
        raise GlobError("pattern names no path")
    anchored = pattern.startswith("/") or "/" in body
    regex = _translate(body)
    if not anchored:
        regex = f"(?:.*/)?{regex}"
    regex += "/.*" if directory else "(?:/.*)?"
    return re.compile(regex)
