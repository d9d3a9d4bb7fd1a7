"""Read-only git answers of the gateway's repository, kept while its refs do not move.

A check asks git the same questions again and again (the change's commits, its diff, the
evidence refs and blobs): each answer is a function of the objects named (immutable) and of the
refs. :func:`cached_reader` gives a ``GitReader`` whose runner answers read-only commands from
a per-process cache keyed by the command, its input and a **fingerprint of the refs** taken
when the request starts; any ref created, moved or deleted changes the fingerprint, and the
cache of the old one is dropped.

The fingerprint is the modification time (ns), inode and size of ``HEAD``, ``packed-refs``,
``config``, ``shallow``, ``info/grafts`` and of every directory under ``refs/`` and
``reftable/``: git writes every ref through a lock file renamed into place, which changes its
directory. A timestamp's granularity is coarse (a kernel tick), so a fingerprint with anything
modified in the last ``_RACY_NS`` is not trusted (like git's own "racily clean" index entries):
such a request runs git as if there were no cache. Answers that mention a missing object, and
failures, are never kept (an object may arrive later); commands that write are never cached.
"""

from __future__ import annotations

__all__ = ["cached_envelopes", "cached_reader", "fingerprint"]

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from twokey.git import EnvelopeSource, GitConfig, GitReader, GitResult, GitRunner

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from twokey.git import RawEnvelope
    from twokey.model import Alias, Change

# Commands whose output depends only on objects and refs (and that write nothing).
_READ_ONLY = frozenset(
    {
        "cat-file",
        "for-each-ref",
        "rev-parse",
        "log",
        "rev-list",
        "diff",
        "diff-tree",
        "merge-base",
        "symbolic-ref",
        "ls-tree",
        "show",
    }
)
_RACY_NS = 200_000_000  # 0.2 s: a modification this recent may share a tick with the next
_FILES = ("HEAD", "packed-refs", "config", "shallow", "info/grafts", "objects/info/alternates")
_FILE_DIRS = (".", "info", "objects/info")  # the directories of _FILES
_MAX_BYTES = 64 << 20  # answers kept per process (the largest drop first when full)
_MAX_FACTS = 1024  # parsed changes and evidence selections kept per process

State = tuple[object, ...]
Watch = Callable[[str], None]


class _Answers:
    """The answers of one fingerprint (an LRU bounded in bytes), shared by a process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.state: State | None = None
        self.items: OrderedDict[tuple[object, ...], GitResult] = OrderedDict()
        self.size = 0
        self.facts: dict[tuple[object, ...], object] = {}  # parsed results (bounded count)

    def fact(self, state: State, key: tuple[object, ...]) -> object | None:
        with self.lock:
            return self.facts.get(key) if state == self.state else None

    def keep(self, state: State, key: tuple[object, ...], value: object) -> None:
        with self.lock:
            if state != self.state:
                self.state, self.items, self.size, self.facts = state, OrderedDict(), 0, {}
            if len(self.facts) >= _MAX_FACTS:
                self.facts.clear()
            self.facts[key] = value

    def get(self, state: State, key: tuple[object, ...]) -> GitResult | None:
        with self.lock:
            if state != self.state:
                return None
            found = self.items.get(key)
            if found is not None:
                self.items.move_to_end(key)
            return found

    def put(self, state: State, key: tuple[object, ...], result: GitResult) -> None:
        cost = len(result.out) + 256
        if cost > _MAX_BYTES // 8:
            return
        with self.lock:
            if state != self.state:
                self.state, self.items, self.size, self.facts = state, OrderedDict(), 0, {}
            self.items[key] = result
            self.size += cost
            while self.size > _MAX_BYTES and self.items:
                _, dropped = self.items.popitem(last=False)
                self.size -= len(dropped.out) + 256


_ANSWERS: dict[Path, _Answers] = {}
_DIRS: dict[str, tuple[int, list[str]]] = {}  # directory -> (mtime, its subdirectories)
_GLOBAL = threading.Lock()


class _CachingRunner(GitRunner):
    """A runner that answers read-only commands from the cache of one fingerprint."""

    def __init__(
        self, git_dir: Path, env: Mapping[str, str], state: State, answers: _Answers
    ) -> None:
        super().__init__(git_dir, config=GitConfig.ISOLATED, env=env)
        self._state = state
        self._answers = answers

    def call(
        self, args: Sequence[str], *, stdin: bytes | None = None, ok: Sequence[int] = (0,)
    ) -> GitResult:
        if not args or args[0] not in _READ_ONLY:
            return super().call(args, stdin=stdin, ok=ok)
        key = (tuple(args), stdin)
        found = self._answers.get(self._state, key)
        if found is not None and found.code in ok:
            return found
        result = super().call(args, stdin=stdin, ok=ok)
        if result.code == 0 and b" missing\n" not in result.out:
            self._answers.put(self._state, key, result)
        return result


class _CachedReader(GitReader):
    """A reader whose parsed changes are kept too (a ``Change`` is immutable, and a function
    of the objects and refs: the same fingerprint, the same facts)."""

    state: State
    answers: _Answers

    def change(
        self,
        ref: str,
        old: str,
        new: str,
        *,
        repository: str,
        pusher: Alias | None = None,
        exclude: Iterable[str] = (),
        signatures: bool = False,
    ) -> Change:
        excluded = tuple(exclude)
        key = ("change", ref, old, new, repository, pusher, excluded, signatures)
        found = self.answers.fact(self.state, key)
        if found is None:
            found = super().change(
                ref,
                old,
                new,
                repository=repository,
                pusher=pusher,
                exclude=excluded,
                signatures=signatures,
            )
            self.answers.keep(self.state, key, found)
        return cast("Change", found)


class _CachedEnvelopes(EnvelopeSource):
    """Evidence selected for a change, kept under the fingerprint (the same refs, the same
    blobs); every envelope is still verified by the gate on every request."""

    def __init__(self, reader: _CachedReader) -> None:
        super().__init__(reader)
        self._cached = reader

    def for_change(self, subjects: Iterable[str], trees: Iterable[str]) -> list[RawEnvelope]:
        wanted, wanted_trees = tuple(sorted(set(subjects))), tuple(sorted(set(trees)))
        key = ("evidence", wanted, wanted_trees)
        reader = self._cached
        found = reader.answers.fact(reader.state, key)
        if found is None:
            found = super().for_change(wanted, wanted_trees)
            reader.answers.keep(reader.state, key, tuple(found))
        return list(cast("tuple[RawEnvelope, ...]", found))


def cached_reader(git_dir: Path) -> GitReader:
    """A reader of ``git_dir`` whose read-only git answers (and parsed changes) are cached
    under the refs' current fingerprint (a plain reader when the refs changed too recently to
    be fingerprinted)."""
    from twokey.gateway._refwatch import current_fingerprint  # noqa: PLC0415

    state = current_fingerprint(git_dir)
    if state is None:
        return GitReader(git_dir, env={})
    reader = _CachedReader(git_dir, env={})
    with _GLOBAL:
        answers = _ANSWERS.setdefault(git_dir, _Answers())
    reader.state, reader.answers = state, answers
    reader.git = _CachingRunner(git_dir, reader.git.env, state, answers)
    return reader


def cached_envelopes(reader: GitReader) -> EnvelopeSource:
    """The evidence source of ``reader``; its selections cached when the reader's are."""
    if isinstance(reader, _CachedReader):
        return _CachedEnvelopes(reader)
    return EnvelopeSource(reader)


def fingerprint(git_dir: Path, watch: Watch | None = None) -> State | None:
    """What changes whenever a ref does; None when something changed too recently to tell.

    ``watch`` (a :class:`~twokey.gateway._refwatch.RefWatch`'s) is called with every directory
    the fingerprint depends on, before it is read: a change after that is reported to it.
    """
    racy = time.time_ns() - _RACY_NS
    parts: list[object] = []
    if watch is not None:
        for directory in _FILE_DIRS:
            watch(str(git_dir / directory))
    for name in _FILES:
        try:
            st = os.stat(git_dir / name)
        except FileNotFoundError:
            parts.append(None)
            continue
        if st.st_mtime_ns > racy or st.st_ctime_ns > racy:
            return None
        parts.append((st.st_mtime_ns, st.st_ino, st.st_size))
    for top in ("refs", "reftable"):
        stack = [str(git_dir / top)]
        while stack:
            directory = stack.pop()
            if watch is not None:
                watch(directory)
            try:
                mtime = os.stat(directory).st_mtime_ns
            except FileNotFoundError:
                parts.append((directory, None))
                continue
            if mtime > racy:
                return None
            parts.append(mtime)
            stack.extend(_subdirectories(directory, mtime))
    return tuple(parts)


def _subdirectories(directory: str, mtime: int) -> list[str]:
    """The subdirectories of ``directory``, listed again only when its mtime moved."""
    known = _DIRS.get(directory)
    if known is not None and known[0] == mtime:
        return known[1]
    with os.scandir(directory) as entries:
        found = [e.path for e in entries if e.is_dir(follow_symlinks=False)]
    _DIRS[directory] = (mtime, found)
    return found
