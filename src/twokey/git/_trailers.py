"""Commit-message trailers, read the way ``git interpret-trailers`` reads them.

Trailers are ``Key: value`` lines in the last paragraph of a message (git-interpret-trailers(1)):
the paragraph counts as a trailer block when at least one line is a trailer and the trailer
lines make up at least a quarter of it; continuation lines start with white space.
"""

from __future__ import annotations

__all__ = [
    "co_authors",
    "last_paragraph",
    "paragraph_trailers",
    "parse_ident",
    "parse_trailers",
]

import re

from twokey._lazy import lazy_pattern
from twokey.model import Ident

# Compiled when first used: a deploy check reads no trailers (ADR 0040).
_TRAILER = lazy_pattern(r"^([A-Za-z0-9][A-Za-z0-9-]*)\s*:\s?(.*)$", globals())
_NAME_EMAIL = lazy_pattern(r"^\s*(.*?)\s*<([^<>\s]+)>\s*$", globals())


_SEPARATOR = re.compile(r"\n\s*\n")


def last_paragraph(message: str) -> str | None:
    """The last non-blank paragraph of a message of two or more, else None.

    Exactly the paragraph :func:`parse_trailers` reads. The common shape (a message that
    starts with text and whose last paragraph follows a plain blank line) is found with one
    ``rfind``; anything else is split with the paragraph regex.
    """
    text = message.strip("\n")
    cut = text.rfind("\n\n")
    if cut > 0 and not text[0].isspace():
        tail = text[cut + 2 :]
        if tail and not tail[0].isspace() and ("\n" not in tail or not _SEPARATOR.search(tail)):
            return tail  # the separator at `cut` ends here, and none follows
    paragraphs = [p for p in _SEPARATOR.split(text) if p.strip()]
    return paragraphs[-1] if len(paragraphs) >= 2 else None  # a subject alone has none


def paragraph_trailers(paragraph: str) -> tuple[tuple[str, str], ...]:
    """The trailers of a message's last paragraph (see :func:`parse_trailers`)."""
    trailers: list[tuple[str, str]] = []
    other = 0
    match = _TRAILER.match
    for line in paragraph.splitlines():
        found = match(line)
        if found:
            key, value = found.groups()
            trailers.append((key, value.strip()))
        elif trailers and line[:1].isspace():  # a continuation of the trailer above
            key, value = trailers[-1]
            trailers[-1] = (key, f"{value} {line.strip()}")
        else:
            other += 1
    if not trailers or len(trailers) * 3 < other:
        return ()
    return tuple(trailers)


def parse_trailers(message: str) -> tuple[tuple[str, str], ...]:
    """The message's trailers as ``(key, value)`` pairs, keys as written, in order."""
    paragraph = last_paragraph(message)
    return paragraph_trailers(paragraph) if paragraph is not None else ()


def parse_ident(value: str) -> Ident | None:
    """``"Name <email>"`` as an :class:`Ident`, or None when it has no email."""
    match = _NAME_EMAIL.match(value)
    return Ident(match.group(1), match.group(2)) if match else None


def co_authors(trailers: tuple[tuple[str, str], ...]) -> tuple[Ident, ...]:
    """The ``Co-authored-by`` identities among ``trailers`` (key matched case-insensitively)."""
    found = (parse_ident(v) for k, v in trailers if k.lower() == "co-authored-by")
    return tuple(ident for ident in found if ident is not None)
