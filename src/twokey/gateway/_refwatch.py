"""The refs' fingerprint, taken again only when the kernel reports a change (Linux inotify).

:func:`~twokey.gateway._gitcache.fingerprint` reads the status of every directory under
``refs/`` (one per evidence subject: hundreds in a live repository), ~0.4 ms a check. A
:class:`RefWatch` keeps the last fingerprint and an inotify watch on every directory it read
(and on the repository's own, ``info/`` and ``objects/info/``, where ``HEAD``,
``packed-refs`` and the rest live); a check first drains the watch's queue (one non-blocking
``read``) and reuses the fingerprint when it is empty.

Why this is exact, not merely fresh: the kernel queues the event inside the system call that
changes a directory entry (git writes every ref by renaming a lock file into place), before
that call returns; a watch is added to a directory before the directory is read, so a change
after the read is queued and a change before it is in the fingerprint. So a check that finds
the queue empty sees the refs as a full fingerprint taken at that moment would: no staleness
(ADR 0032). Anything unusual falls back to the full fingerprint on every check: no inotify
(not Linux, out of instances or watches), a file system where another machine could change
the repository unseen (only local ones are trusted), a fork, or a fingerprint that is
``None`` (something changed within the racy window: taken again on every check until stable).
"""

from __future__ import annotations

__all__ = ["RefWatch", "current_fingerprint"]

import ctypes
import ctypes.util
import logging
import os
import sys
import threading
from pathlib import Path

from twokey.gateway._gitcache import State, fingerprint

log = logging.getLogger("twokey.gateway")

_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = os.O_CLOEXEC
# Anything that changes an entry of a directory, the directory itself, or a file in it.
_MASK = (
    0x00000002  # IN_MODIFY
    | 0x00000004  # IN_ATTRIB
    | 0x00000008  # IN_CLOSE_WRITE
    | 0x00000040  # IN_MOVED_FROM
    | 0x00000080  # IN_MOVED_TO
    | 0x00000100  # IN_CREATE
    | 0x00000200  # IN_DELETE
    | 0x00000400  # IN_DELETE_SELF
    | 0x00000800  # IN_MOVE_SELF
)
# statfs f_type of local file systems, whose changes all pass through this kernel.
_LOCAL = frozenset(
    {
        0xEF53,  # ext2/3/4
        0x58465342,  # xfs
        0x9123683E,  # btrfs
        0x01021994,  # tmpfs
        0x794C7630,  # overlayfs
        0x2FC12FC1,  # zfs
        0xF2F52010,  # f2fs
    }
)


class _Libc:
    """The few libc calls inotify needs (None attributes when libc has none)."""

    def __init__(self) -> None:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        self.init1 = libc.inotify_init1
        self.init1.argtypes, self.init1.restype = [ctypes.c_int], ctypes.c_int
        self.add_watch = libc.inotify_add_watch
        self.add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        self.add_watch.restype = ctypes.c_int
        self.statfs = libc.statfs
        self.statfs.argtypes, self.statfs.restype = [ctypes.c_char_p, ctypes.c_void_p], ctypes.c_int


def _libc() -> _Libc | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return _Libc()
    except (OSError, AttributeError):
        return None


def _local(libc: _Libc, path: Path) -> bool:
    """The file system of ``path`` is a local one (its first word, ``f_type``, says which)."""
    buffer = ctypes.create_string_buffer(256)  # struct statfs is 120 bytes on 64-bit Linux
    if libc.statfs(os.fsencode(path), buffer) != 0:
        return False
    kind = ctypes.c_long.from_buffer(buffer).value & 0xFFFFFFFF
    return kind in _LOCAL


class _WatchFailedError(OSError):
    pass


class RefWatch:
    """One process's watch of one repository's refs (shared by its threads)."""

    def __init__(self, git_dir: Path, libc: _Libc) -> None:
        self.git_dir = git_dir
        self.pid = os.getpid()
        self._libc = libc
        self._lock = threading.Lock()
        self._state: State | None = None
        self._fd = libc.init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if self._fd < 0:
            raise _WatchFailedError(ctypes.get_errno(), "inotify_init1 failed")

    def current(self) -> State | None:
        """The refs' fingerprint now (None when it cannot be told, as ``fingerprint``).

        Raises:
            OSError: a directory cannot be watched (the caller stops using this watch).
        """
        with self._lock:
            changed = self._drain()
            if changed or self._state is None:
                self._state = None  # a failure below must not leave the old one standing
                self._state = fingerprint(self.git_dir, watch=self._watch)
            return self._state

    def _drain(self) -> bool:
        """Whether any event was queued (all of them are read: any one means a new scan)."""
        changed = False
        while True:
            try:
                if not os.read(self._fd, 65536):
                    return changed
            except BlockingIOError:
                return changed
            changed = True

    def _watch(self, directory: str) -> None:
        if self._libc.add_watch(self._fd, os.fsencode(directory), _MASK) >= 0:
            return
        errno = ctypes.get_errno()
        if errno in (2, 20):  # ENOENT, ENOTDIR: not there; its parent's watch sees it come
            return
        raise _WatchFailedError(errno, f"inotify_add_watch {directory}: {os.strerror(errno)}")

    def close(self) -> None:
        os.close(self._fd)


_WATCHES: dict[Path, RefWatch | None] = {}  # None: this repository is fingerprinted in full
_GLOBAL = threading.Lock()
_LIBC = _libc()


def current_fingerprint(git_dir: Path) -> State | None:
    """The refs' fingerprint: from this process's watch of ``git_dir`` where it can have one,
    else read in full (:func:`~twokey.gateway._gitcache.fingerprint`)."""
    watch = _watch_of(git_dir)
    if watch is None:
        return fingerprint(git_dir)
    try:
        return watch.current()
    except OSError as exc:
        log.warning("watching the refs of %s failed (%s): fingerprinting in full", git_dir, exc)
        with _GLOBAL:
            _WATCHES[git_dir] = None
        watch.close()
        return fingerprint(git_dir)


def _watch_of(git_dir: Path) -> RefWatch | None:
    with _GLOBAL:
        if git_dir in _WATCHES:
            found = _WATCHES[git_dir]
            if found is None or found.pid == os.getpid():
                return found
        watch: RefWatch | None = None
        if _LIBC is not None and _local(_LIBC, git_dir):
            try:
                watch = RefWatch(git_dir, _LIBC)
            except OSError as exc:
                log.warning("no inotify for %s (%s): fingerprinting in full", git_dir, exc)
        _WATCHES[git_dir] = watch
        return watch
