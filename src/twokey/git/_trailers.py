"""Commit-message trailers, read the way ``git interpret-trailers`` reads them.

Trailers are ``Key: value`` lines in the last paragraph of a message (git-interpret-trailers(1)):
the paragraph counts as a trailer block when at least one line is a trailer and the trailer
lines make up at least a quarter of it; continuation lines start with white space.
"""

from __future__ import annotations

__all__ = ["co_authors", "parse_ident", "parse_trailers"]

import re

from twokey.model import Ident

_TRAILER = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*)\s*:\s?(.*)$")
_NAME_EMAIL = re.compile(r"^\s*(.*?)\s*<([^<>\s]+)>\s*$")


def parse_trailers(message: str) -> tuple[tuple[str, str], ...]:
    """The message's trailers as ``(key, value)`` pairs, keys as written, in order."""
    paragraphs = [p for p in re.split(r"\n\s*\n", message.strip("\n")) if p.strip()]
    if len(paragraphs) < 2:  # the subject line alone is never a trailer block
        return ()
    lines = paragraphs[-1].splitlines()
    trailers: list[list[str]] = []
    other = 0
    for line in lines:
        match = _TRAILER.match(line)
        if match:
            trailers.append([match.group(1), match.group(2).strip()])
        elif line[:1].isspace() and trailers:
            trailers[-1][1] = f"{trailers[-1][1]} {line.strip()}"
        else:
            other += 1
    if not trailers or len(trailers) * 3 < other:
        return ()
    return tuple((key, value) for key, value in trailers)


def parse_ident(value: str) -> Ident | None:
    """``"Name <email>"`` as an :class:`Ident`, or None when it has no email."""
    match = _NAME_EMAIL.match(value)
    return Ident(match.group(1), match.group(2)) if match else None


def co_authors(trailers: tuple[tuple[str, str], ...]) -> tuple[Ident, ...]:
    """The ``Co-authored-by`` identities among ``trailers`` (key matched case-insensitively)."""
    found = (parse_ident(v) for k, v in trailers if k.lower() == "co-authored-by")
    return tuple(ident for ident in found if ident is not None)
