"""What the ledger needs from a database: one small interface, two implementations.

:class:`Store` is implemented by :class:`~twokey.ledger._sqlite.SqliteStore` and
:class:`~twokey.ledger._postgres.PostgresStore`, which pass one shared test suite
(``tests/integration/ledger/test_store.py``). Every method raises
:class:`~twokey.errors.InfrastructureError` for a database failure (never a driver exception).
"""

from __future__ import annotations

__all__ = ["Head", "LedgerCorruptError", "MissingHashError", "Store", "StoredCheckpoint"]

import abc
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from twokey.errors import InfrastructureError, VerificationError
from twokey.ledger._compact import Position, fold


class LedgerCorruptError(VerificationError):
    """The stored log does not verify.

    Attributes:
        first_bad_index: the first entry that cannot be vouched for, or None when the damage is
            not in the entries (a checkpoint, the head) or cannot be narrowed to one index.
    """

    def __init__(self, message: str, first_bad_index: int | None) -> None:
        super().__init__(
            message,
            hint="the log was edited, truncated or forked; compare it with the checkpoints "
            "handed out earlier (twokey ledger consistency --from CHECKPOINT)",
        )
        self.first_bad_index = first_bad_index


class MissingHashError(InfrastructureError):
    """A tree hash the head implies is not stored: the store was damaged or edited."""


@dataclass(frozen=True)
class Head:
    """The stored tree head: size, root, and the frontier (perfect subtrees, leftmost first)."""

    size: int
    root: bytes
    frontier: tuple[bytes, ...]

    def consistent(self) -> bool:
        """True when the frontier has the right shape and folds to the root."""
        return len(self.frontier) == self.size.bit_count() and fold(self.frontier) == self.root


@dataclass(frozen=True)
class StoredCheckpoint:
    """A signed checkpoint as stored: size, root and the signed note text."""

    size: int
    root: bytes
    note: str


class Store(abc.ABC):
    """A log's storage: entries, perfect-subtree hashes, the head and signed checkpoints."""

    @abc.abstractmethod
    def append(self, datas: Sequence[bytes], leaves: Sequence[bytes]) -> int:
        """Append entries (with their leaf hashes) in one durable transaction.

        The store sequences concurrent appenders: it locks the head, extends the tree from the
        stored frontier, writes entries, new interior nodes and the new head, and commits.

        Returns:
            The index of the first appended entry.
        """

    @abc.abstractmethod
    def head(self) -> Head:
        """The stored tree head."""

    @abc.abstractmethod
    def hashes(self, positions: Sequence[Position]) -> dict[Position, bytes]:
        """Stored hashes of the perfect subtrees at ``positions`` (level 0: leaf hashes).

        Raises:
            MissingHashError: a position is missing (the store is damaged).
        """

    @abc.abstractmethod
    def entries(self, start: int, end: int | None) -> Iterator[tuple[int, bytes, bytes]]:
        """(index, entry bytes, stored leaf hash) of stored rows in ``[start, end)``, by index."""

    @abc.abstractmethod
    def nodes(self, level: int, start: int, end: int | None = None) -> Iterator[tuple[int, bytes]]:
        """(index, hash) of the stored interior nodes of ``level`` in ``[start, end)``, by index."""

    @abc.abstractmethod
    def snapshot(self) -> AbstractContextManager[None]:
        """A read transaction: every read inside sees one consistent state of the log."""

    @abc.abstractmethod
    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """Store a signed checkpoint."""

    @abc.abstractmethod
    def checkpoints(self) -> list[StoredCheckpoint]:
        """Every stored checkpoint, by size."""

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The stored checkpoint of the largest size, if any (a store may answer faster)."""
        found = self.checkpoints()
        return found[-1] if found else None

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection."""
