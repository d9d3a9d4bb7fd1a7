"""The ledger: append, prove, checkpoint and verify, over any :class:`Store`."""

from __future__ import annotations

__all__ = ["DEFAULT_LEDGER", "Ledger", "open_ledger"]

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType

from twokey.errors import UsageError
from twokey.ledger._compact import Position, fold, frontier_positions, range_positions
from twokey.ledger._entry import Entry
from twokey.ledger._merkle import (
    EMPTY_ROOT,
    HashRange,
    consistency_path,
    inclusion_path,
    leaf_hash,
)
from twokey.ledger._note import Checkpoint, NoteSigner, NoteVerifier, sign_note
from twokey.ledger._store import Store, StoredCheckpoint
from twokey.ledger._verify import LedgerCorruptError, Progress, VerifyReport, verify_store

DEFAULT_LEDGER = ".twokey/ledger.db"


def open_ledger(url: str | os.PathLike[str] | None = None) -> Ledger:
    """Open the ledger at ``url``, creating or migrating its schema when needed.

    Args:
        url: ``sqlite:///abs/path``, ``sqlite://rel/path``, a plain file path, or
            ``postgresql://user@host/db`` (add ``?schema=NAME`` to use a schema). None or ""
            means ``$TWOKEY_LEDGER``, else ``.twokey/ledger.db``.

    Raises:
        InfrastructureError: the database cannot be opened or migrated.
        ConfigError: the schema is newer than this twokey.
    """
    target = str(url) if url else os.environ.get("TWOKEY_LEDGER") or DEFAULT_LEDGER
    if target.startswith(("postgresql://", "postgres://")):
        from twokey.ledger._postgres import PostgresStore  # noqa: PLC0415 - psycopg is slow to import

        return Ledger(PostgresStore(target))
    from twokey.ledger._sqlite import SqliteStore  # noqa: PLC0415

    return Ledger(SqliteStore(Path(target.removeprefix("sqlite://"))))


class Ledger:
    """An append-only RFC 6962 Merkle log of entries, with signed checkpoints.

    Use as a context manager (or call :meth:`close`). Every method raises
    :class:`~twokey.errors.InfrastructureError` when the database fails.
    """

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

    # -- writing --------------------------------------------------------------------------
    def append(self, entries: Sequence[Entry]) -> list[int]:
        """Append entries in one durable transaction.

        Args:
            entries: e.g. ``[Entry(EntryKind.DECISION, decision.to_dict(), now)]``.

        Returns:
            Their indices, in order (contiguous). Once this returns, the entries are committed.
        """
        return self.append_raw([entry.encode() for entry in entries])

    append_entries = append

    def append_raw(self, datas: Sequence[bytes]) -> list[int]:
        """Append already-encoded entry bytes in one durable transaction; their indices."""
        if not datas:
            return []
        first = self.store.append(datas, [leaf_hash(d) for d in datas])
        return list(range(first, first + len(datas)))

    def checkpoint(self, signer: NoteSigner) -> str:
        """Sign (c2sp.org/tlog-checkpoint, signed-note) and store the current tree head.

        The origin line is the signer's name. Returns the signed note text.
        """
        head = self.store.head()
        if not head.consistent():
            raise LedgerCorruptError("the stored tree head is damaged; refusing to sign it", None)
        note = sign_note(Checkpoint(signer.name, head.size, head.root).body(), signer)
        self.store.add_checkpoint(StoredCheckpoint(head.size, head.root, note))
        return note

    # -- reading --------------------------------------------------------------------------
    def size(self) -> int:
        """How many entries the log holds (per its tree head)."""
        return self.store.head().size

    def head(self) -> tuple[int, bytes]:
        """(size, root) of the stored tree head."""
        head = self.store.head()
        return head.size, head.root

    def entry(self, index: int) -> bytes:
        """The exact stored bytes of entry ``index`` (parse with :func:`parse_entry`)."""
        size = self.size()
        if not 0 <= index < size:
            raise UsageError(f"no entry {index} in a log of size {size}")
        for _, data, _ in self.store.entries(index, index + 1):
            return data
        raise LedgerCorruptError(f"entry {index} is missing", index)

    def entries(self, start: int = 0, end: int | None = None) -> Iterator[tuple[int, bytes]]:
        """(index, exact bytes) of the entries in ``[start, end)`` (to the head by default)."""
        end = self.size() if end is None else end
        for index, data, _ in self.store.entries(start, end):
            yield index, data

    def checkpoints(self) -> list[StoredCheckpoint]:
        """Every stored checkpoint, by size."""
        return self.store.checkpoints()

    def latest_checkpoint(self, covering: int = 0) -> StoredCheckpoint | None:
        """The largest stored checkpoint of at least ``covering`` entries, if any."""
        latest = self.store.latest_checkpoint()
        return latest if latest is not None and latest.size >= covering else None

    # -- proofs ---------------------------------------------------------------------------
    def root_at(self, size: int) -> bytes:
        """MTH of the first ``size`` entries, from the stored subtree hashes."""
        self._check_size(size)
        if size == 0:
            return EMPTY_ROOT
        positions = frontier_positions(size)
        found = self.store.hashes(positions)
        return fold([found[p] for p in positions])

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.3.1 proof that entry ``index`` is in the tree of ``size`` entries.

        ``size`` defaults to the current size. Raises ProofError for an impossible index.
        """
        size = self._check_size(size)
        return self._prove(lambda hash_range: inclusion_path(index, size, hash_range))

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.4.1 proof that the tree of ``size1`` is a prefix of that of ``size2``."""
        size2 = self._check_size(size2)
        return self._prove(lambda hash_range: consistency_path(size1, size2, hash_range))

    def _check_size(self, size: int | None) -> int:
        current = self.size()
        if size is None:
            return current
        if not 0 <= size <= current:
            raise UsageError(f"the log holds {current} entries; no tree of size {size}")
        return size

    def _prove(self, build: Callable[[HashRange], list[bytes]]) -> list[bytes]:
        """Run a proof builder twice: once to learn the subtrees, once with one fetch of them."""
        needed: list[Position] = []

        def record(start: int, end: int) -> bytes:
            needed.extend(range_positions(start, end))
            return b""

        build(record)
        found = self.store.hashes(needed)
        return build(lambda a, b: fold([found[p] for p in range_positions(a, b)]))

    # -- verification ---------------------------------------------------------------------
    def verify(
        self,
        verifier: NoteVerifier | None = None,
        *,
        since: Checkpoint | None = None,
        progress: Progress | None = None,
    ) -> VerifyReport:
        """Recompute the log from the stored entry bytes and check everything against it.

        Steps, inside one read snapshot: (1) read the entries in index order from 0 (or from a
        trusted ``since`` checkpoint, whose size and root must match the stored subtree hashes):
        indices contiguous, none beyond the head; (2) rehash each entry and compare the stored
        leaf hash, and each interior node as it completes (RFC 9162 §2.1); (3) the rebuilt
        frontier and root equal the stored head; (4) every stored checkpoint: no two of one
        size differ (fork), the signature verifies under ``verifier`` when given, and (from
        ``since`` on) the rebuilt root at its size equals it.

        Raises:
            LedgerCorruptError: naming the first bad index where one can be named.
        """
        return verify_store(self.store, verifier, since=since, progress=progress)
