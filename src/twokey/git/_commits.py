"""Commits from one ``git log`` stream: ids, trees, parents, people, trailers, paths."""

from __future__ import annotations

__all__ = ["FORMAT", "LOG_ARGS", "RawRecord", "parse_log", "take_records"]

import re
from datetime import datetime

from twokey.errors import InfrastructureError
from twokey.git._trailers import co_authors, parse_trailers
from twokey.model import Commit, Ident

# One record per commit: \x01 then ten NUL-separated fields and a NUL (no field can hold a NUL:
# git prints them as C strings). The changed paths follow WITHOUT -z: git then quotes every path
# that holds a control character, a quote or a backslash ("\001x" for a file named \x01x), so a
# path line never holds the \x01 or NUL that frame a record. With -z paths were printed raw and a
# file named "\x01" + 40 hex digits started a forged record that swallowed the commit's
# later paths (its .twokey/policy.yml change among them). After the last field: git's newline,
# then, when the commit touches paths, a newline and one path per line (git-log(1)).
# --diff-merges=first-parent gives a merge's paths against its first parent (Commit.paths).
_FIELDS = ("%H", "%T", "%P", "%an", "%ae", "%aI", "%cn", "%ce", "%cI", "%B")
FORMAT = "%x01" + "%x00".join(_FIELDS) + "%x00"
LOG_ARGS = (
    "log",
    "--stdin",
    "--topo-order",
    "--reverse",
    "--no-renames",
    "--no-color",
    "--name-only",
    "--diff-merges=first-parent",
    f"--format={FORMAT}",
)
_START = re.compile(r"\x01[0-9a-f]{40}(?:[0-9a-f]{24})?")
_N = len(_FIELDS)
# One raw record: the ten fields (the first still "\x01" + id) and the commit's paths.
RawRecord = tuple[list[str], tuple[str, ...]]


def parse_log(data: bytes) -> list[Commit]:
    """Parse the output of ``git LOG_ARGS`` into commits, in the order git printed them.

    Raises:
        InfrastructureError: the stream is not what git prints for ``LOG_ARGS``.
    """
    text = data.decode("utf-8", errors="surrogateescape")
    if not text:
        return []
    pending = text.split("\0")
    records = take_records(pending, final=True)
    return [_commit([f[0][1:], *f[1:]], paths) for f, paths in records]


def take_records(pending: list[str], *, final: bool) -> list[RawRecord]:
    """The complete records at the front of ``pending`` (tokens of ``FORMAT`` output split at
    NUL); what may still grow is left in ``pending``. ``final``: no more tokens will come.

    Each record is ten tokens and a glue token: the commit's path block, then (unless it is the
    last) ``\x01`` and the next commit's id. The block is quoted by git, so the first ``\x01``
    in the glue is the next record's start, whatever the paths are named.

    Raises:
        InfrastructureError: the tokens are not what git prints for ``FORMAT``.
    """
    found: list[RawRecord] = []
    at = 0
    total = len(pending)
    while total - at > _N:
        fields = pending[at : at + _N]
        if not _START.fullmatch(fields[0]):
            raise InfrastructureError(f"unexpected git log output near {fields[0][:40]!r}")
        block, start, following = pending[at + _N].partition("\x01")
        found.append((fields, _paths(block)))
        if not start:  # the last record: nothing may follow it
            if at + _N + 1 != total:
                raise InfrastructureError("git log output did not line up after a commit")
            at = total
            break
        at += _N
        pending[at] = start + following
    if final and at != total:
        if not _START.fullmatch(pending[at]):
            raise InfrastructureError(f"unexpected git log output near {pending[at][:40]!r}")
        raise InfrastructureError("truncated git log output")
    del pending[:at]
    return found


def _paths(block: str) -> tuple[str, ...]:
    """The paths of one record's block: ``"\n"`` then, if any, ``"\n"`` and one per line."""
    if not block.startswith("\n"):
        raise InfrastructureError(f"unexpected git log output near {block[:40]!r}")
    return tuple(_unquote(line) for line in block.split("\n") if line)


_ESCAPES = {
    ord("a"): 7,
    ord("b"): 8,
    ord("t"): 9,
    ord("n"): 10,
    ord("v"): 11,
    ord("f"): 12,
    ord("r"): 13,
    ord('"'): 34,
    ord("\\"): 92,
}


def _unquote(line: str) -> str:
    """A path as git printed it: C-quoted (``"a\\tb"``, octal bytes) when it needed quoting."""
    if not line.startswith('"'):
        return line
    if len(line) < 2 or not line.endswith('"'):
        raise InfrastructureError(f"git printed a badly quoted path: {line[:60]!r}")
    raw = line[1:-1].encode("utf-8", "surrogateescape")
    out = bytearray()
    i = 0
    while i < len(raw):
        byte = raw[i]
        if byte != 0x5C:
            out.append(byte)
            i += 1
        elif raw[i + 1 : i + 2].isdigit():
            out.append(int(raw[i + 1 : i + 4], 8) & 0xFF)
            i += 4
        elif i + 1 < len(raw) and raw[i + 1] in _ESCAPES:
            out.append(_ESCAPES[raw[i + 1]])
            i += 2
        else:
            raise InfrastructureError(f"git printed a badly quoted path: {line[:60]!r}")
    return out.decode("utf-8", "surrogateescape")


def _commit(fields: list[str], paths: tuple[str, ...]) -> Commit:
    sha, tree, parents, an, ae, ad, cn, ce, cd, message = fields
    trailers = parse_trailers(message)
    return Commit(
        sha=sha,
        tree=tree,
        parents=tuple(parents.split()),
        author=Ident(an, ae, _when(ad)),
        committer=Ident(cn, ce, _when(cd)),
        co_authors=co_authors(trailers),
        message=message,
        paths=paths,
        trailers=trailers,
    )


def _when(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None  # git accepted a broken date; the engine does not need it
