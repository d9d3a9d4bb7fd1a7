"""The ledger: append, prove, checkpoint and verify, over any :class:`Store`."""

from __future__ import annotations

__all__ = ["DEFAULT_LEDGER", "Ledger", "LedgerCorruptError", "VerifyReport", "open_ledger"]

import base64
import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import psycopg

from twokey.errors import InfrastructureError, UsageError, VerificationError
from twokey.ledger._entry import Entry
from twokey.ledger._merkle import (
    EMPTY_ROOT,
    consistency_path,
    inclusion_path,
    leaf_hash,
    node_hash,
    split_point,
)
from twokey.ledger._note import (
    Checkpoint,
    NoteError,
    NoteSigner,
    NoteVerifier,
    open_note,
    sign_note,
)
from twokey.ledger._store import Store, StoredCheckpoint, fold_root, frontier_positions

DEFAULT_LEDGER = ".twokey/ledger.db"
_DB_ERRORS = (sqlite3.Error, psycopg.Error, LookupError)
Progress = Callable[[int], None]
_T = TypeVar("_T")


class LedgerCorruptError(VerificationError):
    """The stored log does not verify; ``first_bad_index`` names where it first goes wrong."""

    def __init__(self, message: str, first_bad_index: int | None) -> None:
        super().__init__(
            message,
            hint="the log was edited, truncated or forked; compare with "
            "the checkpoints handed out earlier (twokey ledger consistency)",
        )
        self.first_bad_index = first_bad_index


@dataclass(frozen=True)
class VerifyReport:
    """What a successful verification covered."""

    size: int
    root: bytes
    checked_from: int
    checkpoints: int


def open_ledger(url: str | os.PathLike[str] | None = None) -> Ledger:
    """Open (creating if needed) the ledger at ``url``.

    ``url`` is ``sqlite:///path``, a plain file path, or ``postgresql://...`` (optionally with
    ``?schema=NAME``); None means ``$TWOKEY_LEDGER`` or ``.twokey/ledger.db``.
    """
    target = str(url) if url is not None else os.environ.get("TWOKEY_LEDGER", DEFAULT_LEDGER)
    try:
        if target.startswith(("postgresql://", "postgres://")):
            from twokey.ledger._postgres import PostgresStore  # noqa: PLC0415 - optional driver

            return Ledger(PostgresStore(target))
        from twokey.ledger._sqlite import SqliteStore  # noqa: PLC0415

        path = target.removeprefix("sqlite://") if target.startswith("sqlite://") else target
        return Ledger(SqliteStore(Path(path)))
    except _DB_ERRORS as exc:
        raise InfrastructureError(
            f"cannot open ledger {target}: {exc}",
            hint="check the ledger URL and that the database is up",
        ) from exc


class Ledger:
    """An append-only Merkle log of entries."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the database connection."""
        self.store.close()

    def _db(self, action: Callable[[], _T]) -> _T:
        try:
            return action()
        except _DB_ERRORS as exc:
            raise InfrastructureError(f"ledger storage failed: {exc}") from exc

    def append(self, entries: Sequence[Entry]) -> list[int]:
        """Append entries in one durable transaction; returns their indices."""
        return self.append_raw([e.encode() for e in entries])

    def append_raw(self, datas: Sequence[bytes]) -> list[int]:
        """Append already-encoded entries; returns their indices."""
        if not datas:
            return []
        first, _, _ = self._db(lambda: self.store.append(datas))
        return list(range(first, first + len(datas)))

    def size(self) -> int:
        """How many entries the log holds (per its tree head)."""
        return self.head()[0]

    def head(self) -> tuple[int, bytes]:
        """(size, root) of the stored tree head."""
        return self._db(self.store.head)

    def entry(self, index: int) -> bytes:
        """The exact bytes of entry ``index``."""
        for _, data, _ in self._db(lambda: list(self.store.entries(index, index + 1))):
            return data
        raise UsageError(f"no entry {index} in a log of size {self.size()}")

    def entries(self, start: int = 0, end: int | None = None) -> Iterator[tuple[int, bytes]]:
        """(index, bytes) for entries in ``[start, end)``."""
        try:
            for index, data, _ in self.store.entries(start, end):
                yield index, data
        except _DB_ERRORS as exc:
            raise InfrastructureError(f"ledger storage failed: {exc}") from exc

    def _hash_range(self, a: int, b: int) -> bytes:
        """MTH(D[a:b]) from stored perfect subtrees (a is always aligned by the callers)."""
        n = b - a
        if n & (n - 1) == 0 and a % n == 0:
            return self.store.node(n.bit_length() - 1, a // n)
        k = split_point(n)
        return node_hash(self._hash_range(a, a + k), self._hash_range(a + k, b))

    def root_at(self, size: int) -> bytes:
        """The root of the tree of the first ``size`` entries."""
        if size == 0:
            return EMPTY_ROOT
        return self._db(
            lambda: fold_root([self.store.node(lv, ix) for lv, ix in frontier_positions(size)])
        )

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Proof that entry ``index`` is in the tree of ``size`` (default: current) entries."""
        size = self.size() if size is None else size
        return self._db(lambda: inclusion_path(index, size, self._hash_range))

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """Proof that the tree of ``size1`` entries is a prefix of the tree of ``size2``."""
        size2 = self.size() if size2 is None else size2
        if size2 > self.size():
            raise UsageError(f"the log has only {self.size()} entries, not {size2}")
        return self._db(lambda: consistency_path(size1, size2, self._hash_range))

    def checkpoint(self, signer: NoteSigner) -> str:
        """Sign and store a checkpoint of the current tree head; returns the signed note."""
        size, root = self.head()
        note = sign_note(Checkpoint(signer.name, size, root).body(), signer)
        self._db(lambda: self.store.add_checkpoint(StoredCheckpoint(size, root, note)))
        return note

    def checkpoints(self) -> list[StoredCheckpoint]:
        """Every stored checkpoint, by size."""
        return self._db(self.store.checkpoints)

    def verify(
        self,
        verifier: NoteVerifier | None = None,
        *,
        since: Checkpoint | None = None,
        progress: Progress | None = None,
    ) -> VerifyReport:
        """Recompute the log from the stored entry bytes and check everything against it.

        Steps: (1) read entries in order: indices contiguous from 0, every stored leaf hash equal
        to the hash of the stored bytes, none beyond the head; (2) the recomputed root equals
        the stored head; (3) every stored checkpoint (signature, when ``verifier`` is given)
        matches the recomputed root at its size, and no two checkpoints of one size differ;
        with ``since``, only entries after it are re-read and the old checkpoint must be
        consistent with the head. Raises :class:`LedgerCorruptError` naming the first bad index.
        """
        size, head_root = self.head()
        if since is not None:
            return self._verify_since(since, size, head_root, progress)
        roots = self._recompute(size, progress)  # step 1
        if roots[size] != head_root:  # step 2
            raise LedgerCorruptError("the stored tree head does not match the entries", None)
        stored = self.checkpoints()
        _check_checkpoints(stored, roots, verifier)  # step 3
        return VerifyReport(size, head_root, 0, len(stored))

    def _recompute(self, size: int, progress: Progress | None) -> dict[int, bytes]:
        """Step 1: hash every stored entry, compare with the stored leaves, rebuild the tree.

        The tree is rebuilt level by level (the same work as the raw-hashlib floor); the root
        at any size is then folded from the perfect subtrees of its binary decomposition.
        """
        leaves: list[bytes] = []
        sha256 = hashlib.sha256
        expected = 0
        for index, data, stored_leaf in self.store.entries(0, None):
            if index != expected:
                raise LedgerCorruptError(
                    f"entry {expected} is missing (next stored is {index})", min(index, expected)
                )
            if index >= size:
                raise LedgerCorruptError(f"entry {index} lies beyond the tree head ({size})", index)
            leaf = sha256(b"\x00" + data).digest()
            if stored_leaf != leaf:
                raise LedgerCorruptError(f"entry {index} does not match its recorded hash", index)
            leaves.append(leaf)
            expected += 1
            if progress is not None and expected % 65536 == 0:
                progress(expected)
        if expected != size:
            raise LedgerCorruptError(
                f"the log holds {expected} entries but its head says {size}", expected
            )
        levels = _levels(leaves)
        wanted = {c.size for c in self.checkpoints() if c.size <= size} | {size}
        return {
            n: fold_root([levels[lv][ix] for lv, ix in frontier_positions(n)]) for n in wanted
        } | {0: EMPTY_ROOT}

    def _verify_since(
        self, since: Checkpoint, size: int, head_root: bytes, progress: Progress | None
    ) -> VerifyReport:
        from twokey.ledger._merkle import ProofError, verify_consistency  # noqa: PLC0415

        try:
            verify_consistency(
                since.size, size, self.consistency_proof(since.size, size), since.root, head_root
            )
        except ProofError as exc:
            raise LedgerCorruptError(
                f"the log is not consistent with the checkpoint of size {since.size}: {exc}", None
            ) from exc
        frontier_check = self.root_at(size)
        if frontier_check != head_root:
            raise LedgerCorruptError("the stored tree head does not match the stored nodes", None)
        for index, data, stored in self.store.entries(since.size, None):
            if stored != leaf_hash(data):
                raise LedgerCorruptError(f"entry {index} does not match its recorded hash", index)
            if progress is not None and index % 65536 == 0:
                progress(index)
        return VerifyReport(size, head_root, since.size, 0)


def _levels(leaves: list[bytes]) -> list[list[bytes]]:
    """Every complete perfect subtree hash, level by level (level 0 are the leaves)."""
    sha256 = hashlib.sha256
    levels = [leaves]
    level = leaves
    while len(level) > 1:
        level = [
            sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        levels.append(level)
    return levels


def _check_checkpoints(
    stored: list[StoredCheckpoint], roots: dict[int, bytes], verifier: NoteVerifier | None
) -> None:
    by_size: dict[int, bytes] = {}
    for checkpoint in stored:
        if by_size.setdefault(checkpoint.size, checkpoint.root) != checkpoint.root:
            raise LedgerCorruptError(
                f"two checkpoints of size {checkpoint.size} have different roots: the log forked",
                None,
            )
        if verifier is not None:
            try:
                body = Checkpoint.parse(open_note(checkpoint.note, verifier))
            except NoteError as exc:
                raise LedgerCorruptError(
                    f"checkpoint of size {checkpoint.size}: {exc}", None
                ) from exc
            if (body.size, body.root) != (checkpoint.size, checkpoint.root):
                raise LedgerCorruptError(f"checkpoint of size {checkpoint.size} was altered", None)
        if roots.get(checkpoint.size) != checkpoint.root:
            where = base64.b64encode(checkpoint.root).decode()[:12]
            raise LedgerCorruptError(
                f"the entries no longer produce the checkpoint of size "
                f"{checkpoint.size} (root {where}...): an entry before index "
                f"{checkpoint.size} was changed",
                None,
            )
