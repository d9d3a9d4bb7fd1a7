"""Whole-log verification: recompute the tree from the stored entry bytes, check everything.

The walk reads every entry in index order inside one snapshot and rebuilds the tree with the
incremental construction of RFC 9162 §2.1 (a stack of perfect subtrees). Each stored leaf
hash and each stored interior node is compared with the recomputed one the moment it is
complete, so the first bad index is known without a second pass.
"""

from __future__ import annotations

__all__ = ["LedgerCorruptError", "VerifyReport", "verify_store"]

import base64
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from twokey.ledger._compact import fold, frontier_positions
from twokey.ledger._note import Checkpoint, NoteError, NoteVerifier, open_note
from twokey.ledger._store import LedgerCorruptError, MissingHashError, Store, StoredCheckpoint

Progress = Callable[[int], None]
_sha256 = hashlib.sha256
_PROGRESS_EVERY = 1 << 16


@dataclass(frozen=True)
class VerifyReport:
    """What a successful verification covered."""

    size: int
    root: bytes
    checked_from: int
    checkpoints: int
    signed: int = 0  # entries covered by the largest stored checkpoint (0: none)


def verify_store(
    store: Store,
    verifier: NoteVerifier | None = None,
    *,
    since: Checkpoint | None = None,
    progress: Progress | None = None,
) -> VerifyReport:
    """Verify a stored log (see :meth:`twokey.ledger.Ledger.verify` for the steps)."""
    with store.snapshot():
        head = store.head()
        stored = store.checkpoints()
        start, stack = _start(store, head.size, since)
        wanted = {c.size for c in stored if c.size >= start}
        walk = _Walk(store, start, stack, wanted)
        roots = walk.run(head.size, progress)
        if tuple(walk.stack) != head.frontier or fold(walk.stack) != head.root:
            raise LedgerCorruptError("the stored tree head does not match the entries", None)
        _check_checkpoints(stored, roots, head.size, verifier)
    signed = max((c.size for c in stored), default=0)
    return VerifyReport(head.size, head.root, start, len(stored), signed)


def _start(store: Store, size: int, since: Checkpoint | None) -> tuple[int, list[bytes]]:
    """Where the walk begins: 0, or the trusted ``since`` checkpoint's size and frontier."""
    if since is None or since.size == 0:
        return 0, []
    if since.size > size:
        raise LedgerCorruptError(
            f"the log holds {size} entries, fewer than the trusted checkpoint's {since.size}: "
            "it was truncated",
            size,
        )
    positions = frontier_positions(since.size)
    try:
        found = store.hashes(positions)
    except MissingHashError as exc:
        raise LedgerCorruptError(f"{exc.message}; run a full verify", None) from exc
    frontier = [found[p] for p in positions]
    if fold(frontier) != since.root:  # authenticates the frontier the walk continues from
        raise LedgerCorruptError(
            f"the stored tree is not the one the checkpoint of size {since.size} signed: an "
            f"entry before index {since.size} was changed (run a full verify to find it)",
            None,
        )
    return since.size, frontier


class _Walk:
    """The incremental rebuild, comparing stored hashes as they complete."""

    def __init__(self, store: Store, start: int, stack: list[bytes], wanted: set[int]) -> None:
        self.store = store
        self.start = start
        self.stack = stack
        self.wanted = wanted
        self.streams: dict[int, Iterator[tuple[int, bytes]]] = {}

    def run(self, size: int, progress: Progress | None) -> dict[int, bytes]:
        roots = {self.start: fold(self.stack)}
        expected, stack, sha = self.start, self.stack, _sha256
        for index, data, stored_leaf in self.store.entries(self.start, None):
            if index != expected:
                raise LedgerCorruptError(f"entry {expected} is missing", expected)
            if index >= size:
                raise LedgerCorruptError(
                    f"entry {index} lies beyond the tree head (size {size})", index
                )
            node = sha(b"\x00" + data).digest()
            if node != stored_leaf:
                raise LedgerCorruptError(f"entry {index} does not match its recorded hash", index)
            level, i = 0, index
            while i & 1:  # a right child completes its parent (RFC 9162 §2.1)
                node = sha(b"\x01" + stack.pop() + node).digest()
                level, i = level + 1, i >> 1
                self._check_node(level, i, node)
            stack.append(node)
            expected += 1
            if expected in self.wanted:
                roots[expected] = fold(stack)
            if progress is not None and not expected % _PROGRESS_EVERY:
                progress(expected)
        if expected != size:
            raise LedgerCorruptError(
                f"entry {expected} is missing: the log holds {expected} entries, its head "
                f"says {size}",
                expected,
            )
        self._check_no_extra_nodes(size)
        return roots

    def _check_node(self, level: int, index: int, value: bytes) -> None:
        stream = self.streams.get(level)
        if stream is None:
            stream = self.streams[level] = self.store.nodes(level, index)
        stored = next(stream, None)
        first, last = index << level, ((index + 1) << level) - 1
        if stored is None or stored[0] != index:
            raise LedgerCorruptError(
                f"the stored hash of entries {first}..{last} is missing", first
            )
        if stored[1] != value:
            raise LedgerCorruptError(
                f"the stored hash of entries {first}..{last} does not match them: one of them "
                "was rewritten together with its leaf hash",
                first,
            )

    def _check_no_extra_nodes(self, size: int) -> None:
        for level in range(1, size.bit_length() + 2):
            extra = next(self.store.nodes(level, size >> level), None)
            if extra is not None:
                first = extra[0] << level
                raise LedgerCorruptError(
                    f"a tree hash over entries from {first} lies beyond the tree head", first
                )


def _check_checkpoints(
    stored: list[StoredCheckpoint],
    roots: dict[int, bytes],
    size: int,
    verifier: NoteVerifier | None,
) -> None:
    """Forks, signatures, and that the entries reproduce every checkpoint in the walk."""
    by_size: dict[int, bytes] = {}
    good = 0
    for checkpoint in stored:  # ordered by size
        if by_size.setdefault(checkpoint.size, checkpoint.root) != checkpoint.root:
            raise LedgerCorruptError(
                f"two checkpoints of size {checkpoint.size} have different roots: the log forked",
                None,
            )
        if verifier is not None:
            _check_signature(checkpoint, verifier)
        if checkpoint.size > size:
            raise LedgerCorruptError(
                f"a checkpoint covers {checkpoint.size} entries but the log holds {size}: "
                "it was truncated",
                size,
            )
        if checkpoint.size not in roots:
            continue  # before a trusted --since checkpoint: signature and forks only
        if roots[checkpoint.size] != checkpoint.root:
            short = base64.b64encode(checkpoint.root).decode()[:12]
            raise LedgerCorruptError(
                f"the entries no longer produce the checkpoint of size {checkpoint.size} "
                f"(root {short}...): an entry in {good}..{checkpoint.size - 1} was changed "
                "together with the stored hashes",
                None,
            )
        good = checkpoint.size


def _check_signature(checkpoint: StoredCheckpoint, verifier: NoteVerifier) -> None:
    try:
        body = Checkpoint.parse(open_note(checkpoint.note, verifier))
    except NoteError as exc:
        raise LedgerCorruptError(f"checkpoint of size {checkpoint.size}: {exc}", None) from exc
    if (body.origin, body.size, body.root) != (verifier.name, checkpoint.size, checkpoint.root):
        raise LedgerCorruptError(
            f"the signed checkpoint of size {checkpoint.size} does not match its stored size "
            "and root",
            None,
        )
