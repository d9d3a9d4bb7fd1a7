"""Commits from one ``git log -z`` stream: ids, trees, parents, people, trailers, paths."""

from __future__ import annotations

__all__ = ["LOG_ARGS", "parse_log"]

import re
from datetime import datetime

from twokey.errors import InfrastructureError
from twokey.git._trailers import co_authors, parse_trailers
from twokey.model import Commit, Ident

# One record per commit: \x01 then ten NUL-separated fields. With -z and --name-only git then
# writes one NUL, and, when the commit touches paths, "\n" and each path NUL-terminated
# (git-log(1), "-z"). --diff-merges=first-parent gives a merge's paths against its first
# parent, which is what Commit.paths means.
_FIELDS = ("%H", "%T", "%P", "%an", "%ae", "%aI", "%cn", "%ce", "%cI", "%B")
_FORMAT = "%x01" + "%x00".join(_FIELDS) + "%x00"
LOG_ARGS = (
    "log",
    "--stdin",
    "-z",
    "--topo-order",
    "--reverse",
    "--no-renames",
    "--no-color",
    "--name-only",
    "--diff-merges=first-parent",
    f"--format={_FORMAT}",
)
_START = re.compile(r"\x01[0-9a-f]{40}(?:[0-9a-f]{24})?")
_N = len(_FIELDS)


def parse_log(data: bytes) -> list[Commit]:
    """Parse the output of ``git LOG_ARGS`` into commits, in the order git printed them.

    Raises:
        InfrastructureError: the stream is not what git prints for ``LOG_ARGS``.
    """
    tokens = data.decode("utf-8", errors="surrogateescape").split("\0")
    commits: list[Commit] = []
    i = 0
    while i < len(tokens):
        if not _START.fullmatch(tokens[i]):
            if tokens[i].strip():
                raise InfrastructureError(f"unexpected git log output near {tokens[i][:40]!r}")
            i += 1
            continue
        fields = tokens[i : i + _N]
        if len(fields) < _N:
            raise InfrastructureError("truncated git log output")
        i += _N + 1  # the fields, then the empty token of git's own separator
        paths: list[str] = []
        while i < len(tokens) and not _START.fullmatch(tokens[i]):
            if tokens[i]:
                paths.append(tokens[i].removeprefix("\n"))
            i += 1
        commits.append(_commit([fields[0][1:], *fields[1:]], tuple(paths)))
    return commits


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
