"""Streaming first-parent history for the audit: one ``git log`` process, constant memory.

With paths, the record format is the gate's own (``twokey.git._commits``, parsed by its
``take_records``): ``\\x01`` then ten NUL-separated fields and a NUL, then the changed paths one
per line, quoted by git, so no file name can forge a record. ``--diff-merges=first-parent`` gives
a merge's paths against its first parent, which is exactly the landed change's paths. Without
paths the stream is ``-z`` and every record exactly ten tokens.

A merge's brought commits are read with :meth:`GitReader.commits` (``merge ^first-parent``),
the very call the gate makes for a push, so the audit sees what the gate saw: the same commits,
the same paths and the same ``clean_merge`` verdict.
"""

from __future__ import annotations

__all__ = [
    "Record",
    "brought_commits",
    "commit_of",
    "first_parent_batches",
    "first_parent_history",
    "first_parent_records",
]

import contextlib
import fcntl
import subprocess
from collections.abc import Generator, Sequence
from datetime import datetime
from itertools import repeat

from twokey._gitrunner import GitError, GitRunner
from twokey.errors import InfrastructureError
from twokey.git._commits import FORMAT, take_records
from twokey.git._reader import GitReader
from twokey.git._trailers import co_authors, parse_trailers
from twokey.model import Commit, Ident

_FIELDS = ("%H", "%T", "%P", "%an", "%ae", "%aI", "%cn", "%ce", "%cI", "%B")
# Without paths: no NUL after the message, so with -z every commit is exactly ten tokens and a
# chunk is cut into records by stride (in C), not scanned token by token.
_PLAIN_FORMAT = "%x01" + "%x00".join(_FIELDS)
_N = len(_FIELDS)
_CHUNK = 1 << 18
_PIPE = 1 << 20

# Parsing is the audit's hot loop (200,000 commits within 2x of raw git log): the log is read
# in large chunks and split once per chunk. A NUL never occurs inside a UTF-8 sequence, so
# splitting the bytes at the last NUL and decoding the complete part is safe.


def _when(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None  # git accepted a broken date; the engine does not need it


# One commit as git wrote it: the ten fields (the first, ``%H``, still prefixed by ``\x01``:
# ``FORMAT``) and its paths. The audit's fast lane reads these without building objects.
Record = tuple[Sequence[str], Sequence[str]]


def commit_of(record: Record, trailers: tuple[tuple[str, str], ...] | None = None) -> Commit:
    """The :class:`Commit` of one record of :func:`first_parent_records`; ``trailers``: its
    message's ``parse_trailers``, when the caller has read them."""
    fields, paths = record
    sha, tree, parents, an, ae, ad, cn, ce, cd, message = fields
    if trailers is None:
        trailers = parse_trailers(message) if ":" in message else ()
    return Commit(
        sha=sha[1:],
        tree=tree,
        parents=tuple(parents.split()),
        author=Ident(an, ae, _when(ad)),
        committer=Ident(cn, ce, _when(cd)),
        co_authors=co_authors(trailers) if trailers else (),
        message=message,
        paths=tuple(paths),
        trailers=trailers,
    )


def _is_start(token: str) -> bool:
    return len(token) in (41, 65) and token[0] == "\x01"  # "\x01" + a SHA-1 or SHA-256 id


def _records(tokens: list[str], pending: list[str]) -> list[Record]:
    """Complete commits from ``pending + tokens``; what may still grow stays in ``pending``."""
    pending.extend(tokens)
    try:
        return list(take_records(pending, final=False))
    except InfrastructureError as exc:
        raise GitError(str(exc)) from exc


def _widen(pipe: int) -> None:
    """Let git write up to 1 MiB ahead of its reader (Linux; elsewhere the default stays).

    With the default 64 KiB pipe git waits whenever the reader is busy with a chunk, so the two
    take turns instead of running side by side on two cores.
    """
    with contextlib.suppress(OSError):  # a limit below 1 MiB: the default works, only slower
        fcntl.fcntl(pipe, getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE)


_NO_PATHS: tuple[str, ...] = ()


def _plain_records(tokens: list[str], pending: list[str]) -> list[Record]:
    """Records of :data:`_PLAIN_FORMAT`: ten tokens each; a partial one stays in ``pending``.

    Raises:
        GitError: the tokens do not line up (a NUL byte inside a field).
    """
    if pending:
        tokens = pending + tokens
        pending.clear()
    whole = len(tokens) - len(tokens) % _N
    pending.extend(tokens[whole:])
    del tokens[whole:]
    if not all(map(_is_start, tokens[0::_N])):
        raise GitError("git log output did not line up: a NUL byte inside a commit field?")
    return list(zip(zip(*[iter(tokens)] * _N, strict=True), repeat(_NO_PATHS)))


def _last(pending: list[str], tail: list[str], plain: bool) -> list[Record]:
    """The records still in ``pending`` once git has finished writing."""
    pending.extend(tail)
    if not plain:
        try:
            return list(take_records(pending, final=True))
        except InfrastructureError as exc:
            raise GitError(str(exc)) from exc
    if len(pending) == _N and _is_start(pending[0]):
        return [(pending[:], _NO_PATHS)]
    if pending:
        raise GitError("git log output did not line up: a NUL byte inside a commit field?")
    return []


def _stream(git: GitRunner, args: list[str], plain: bool) -> Generator[list[Record], None, None]:
    form = ("-z", f"--format={_PLAIN_FORMAT}") if plain else (f"--format={FORMAT}",)
    records = _plain_records if plain else _records
    proc = git.popen("log", *form, *args, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stderr is not None
    _widen(proc.stdout.fileno())
    pending: list[str] = []
    rest = b""
    completed = False
    try:
        while chunk := proc.stdout.read(_CHUNK):
            complete, nul, rest = (rest + chunk).rpartition(b"\0")
            if nul:  # an empty complete part is an empty token (two NULs in a row)
                tokens = complete.decode("utf-8", "surrogateescape").split("\0")
                yield records(tokens, pending)
        tail = [rest.decode("utf-8", "surrogateescape")] if rest else []
        yield _last(pending, tail, plain)
        completed = True
    finally:
        proc.stdout.close()
        if not completed:
            proc.kill()  # the consumer stopped early (or failed): do not wait for git
        stderr = proc.stderr.read().decode(errors="replace").strip()
        proc.stderr.close()
        code = proc.wait()
        if completed and code != 0:
            raise GitError(f"git log failed: {stderr or f'exit code {code}'}")


def first_parent_history(
    git: GitRunner,
    ref: str,
    *,
    since: str | None = None,
    until: str | None = None,
    paths: bool = False,
) -> Generator[Commit, None, None]:
    """:func:`first_parent_records` as :class:`Commit` objects (see there)."""
    records = first_parent_records(git, ref, since=since, until=until, paths=paths)
    try:
        for record in records:
            yield commit_of(record)
    finally:
        records.close()  # the consumer stopped: end git now


def first_parent_records(
    git: GitRunner,
    ref: str,
    *,
    since: str | None = None,
    until: str | None = None,
    paths: bool = False,
) -> Generator[Record, None, None]:
    """:func:`first_parent_batches`, one record at a time."""
    batches = first_parent_batches(git, ref, since=since, until=until, paths=paths)
    try:
        for batch in batches:
            yield from batch
    finally:
        batches.close()


def first_parent_batches(
    git: GitRunner,
    ref: str,
    *,
    since: str | None = None,
    until: str | None = None,
    paths: bool = False,
) -> Generator[list[Record], None, None]:
    """Commits landed on ``ref`` (first-parent), newest first, streamed in constant memory.

    Each batch holds the records of one chunk of git's output, in order. Closing the generator
    early ends the git process.

    Args:
        git: the repository.
        ref: the audited ref.
        since: git's ``--since`` (committer date), or None.
        until: git's ``--until``, or None.
        paths: also read each commit's paths against its first parent (``Commit.paths``);
            a tree diff per commit, so only when the policy has rules that look at paths.

    Raises:
        GitError: git failed (an unknown ref, a broken repository).
    """
    args = ["--first-parent", "--no-color"]
    if paths:
        args += ["--name-only", "--no-renames", "--diff-merges=first-parent"]
    if since:
        args.append(f"--since={since}")
    if until:
        args.append(f"--until={until}")
    return _stream(git, [*args, ref, "--"], plain=not paths)


def brought_commits(reader: GitReader, merge: Commit) -> list[Commit]:
    """The commits a merge brings to its first parent, oldest first, the merge itself last.

    Exactly the gate's view of pushing the merge onto its first parent (``GitReader.commits``):
    each with its paths, merges with ``clean_merge`` set.
    """
    return reader.commits(merge.sha, [merge.parents[0]])
