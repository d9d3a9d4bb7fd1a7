"""Streaming first-parent history for the audit: one ``git log`` process, constant memory."""

from __future__ import annotations

__all__ = ["brought_commits", "first_parent_history"]

import subprocess
from collections.abc import Iterator
from datetime import datetime

from twokey.git._run import Git, GitError
from twokey.git._trailers import co_authors, parse_trailers
from twokey.model import Commit, Ident

# Fields separated by NUL; records end with NUL thanks to -z (git messages hold no NUL).
_FORMAT = "%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B"
_FIELDS = 10
_CHUNK = 1 << 16


def _commit(fields: list[bytes]) -> Commit:
    sha, tree, parents, an, ae, ad, cn, ce, cd, body = (f.decode(errors="replace") for f in fields)
    trailers = parse_trailers(body)
    return Commit(
        sha,
        tree,
        tuple(parents.split()),
        Ident(an, ae, datetime.fromisoformat(ad)),
        Ident(cn, ce, datetime.fromisoformat(cd)),
        co_authors(trailers),
        body,
        (),
        None,
        None,
        trailers,
    )


def _stream(git: Git, args: list[str]) -> Iterator[Commit]:
    command = ["git", "--git-dir", str(git.git_dir), "log", "-z", f"--format={_FORMAT}", *args]
    try:
        proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=git.env
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc}") from exc
    assert proc.stdout is not None
    pending: list[bytes] = []
    rest = b""
    try:
        while chunk := proc.stdout.read(_CHUNK):
            parts = (rest + chunk).split(b"\0")
            rest = parts.pop()
            pending.extend(parts)
            while len(pending) >= _FIELDS:
                yield _commit(pending[:_FIELDS])
                del pending[:_FIELDS]
        if rest:
            pending.append(rest)
        if len(pending) >= _FIELDS:
            yield _commit(pending[:_FIELDS])
    finally:
        proc.stdout.close()
        stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.wait() != 0 and stderr:
            raise GitError(f"git log failed: {stderr.strip()}")


def first_parent_history(
    git: Git, ref: str, *, since: str | None = None, until: str | None = None
) -> Iterator[Commit]:
    """Commits landed on ``ref`` (first-parent), newest first, streamed."""
    args = ["--first-parent"]
    if since:
        args.append(f"--since={since}")
    if until:
        args.append(f"--until={until}")
    return _stream(git, [*args, ref, "--"])


def brought_commits(git: Git, merge: Commit) -> list[Commit]:
    """The commits a merge brought into its first parent (``p1..merge``, without the merge)."""
    if len(merge.parents) < 2:
        return []
    others = [f"^{merge.parents[0]}", *merge.parents[1:]]
    return list(_stream(git, ["--topo-order", "--reverse", *others, "--"]))
