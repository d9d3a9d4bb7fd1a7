"""Group commit for webhook deliveries: one durable ledger transaction for many requests.

A durable SQLite commit costs one ``fsync`` (milliseconds here), so a receiver that appends
each delivery on its own is bound by the disk, not by the work. The gateway serves deliveries
on several threads; :class:`BatchedLedger` lets each of them hand its entries to one writer
thread, which appends everything queued so far in one transaction (``Ledger.append``), signs
a checkpoint when it has a key, and only then releases the callers: each delivery is still
recorded before it takes effect (invariant 9), and a failed batch fails every caller in it.
"""

from __future__ import annotations

__all__ = ["BatchedLedger"]

import queue
import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from twokey.errors import InfrastructureError, TwokeyError

if TYPE_CHECKING:
    from twokey.ledger import Entry, Ledger, NoteSigner


@dataclass
class _Item:
    entries: Sequence[Entry]
    done: threading.Event = field(default_factory=threading.Event)
    error: TwokeyError | None = None


class BatchedLedger:
    """Appends entries from many threads, batched by one writer thread (a context manager)."""

    def __init__(
        self,
        url: str,
        signer: NoteSigner | None = None,
        max_batch: int = 512,
        *,
        sign_every: float = 0.0,
        lock: AbstractContextManager[object] | None = None,
    ) -> None:
        self.url = url
        self.signer = signer
        self.max_batch = max_batch
        # Seconds between signed checkpoints (0: after every batch). Signing costs more than a
        # batch under load, so a gateway signs at most once a second: the entries of the
        # batches between are covered by the next checkpoint.
        self.sign_every = sign_every
        self._signed = float("-inf")
        # Held around each commit: the gateway passes its forge store's connection lock, so
        # the store's writes in this process wait on it (woken at once) instead of in SQLite's
        # busy handler (which sleeps 1, 2, 5, 10... ms) while the ledger's commit holds the
        # database's write lock.
        self.lock = lock if lock is not None else nullcontext()
        self._queue: queue.Queue[_Item | None] = queue.Queue()
        self._ready = threading.Event()
        self._failed: TwokeyError | None = None
        self._thread = threading.Thread(target=self._write, name="twokey-ledger", daemon=True)

    def __enter__(self) -> BatchedLedger:
        self._thread.start()
        self._ready.wait()
        if self._failed is not None:
            raise self._failed
        return self

    def __exit__(self, *exc: object) -> None:
        self._queue.put(None)  # stop after what is queued
        self._thread.join()

    def append(self, entries: Sequence[Entry]) -> None:
        """Return once ``entries`` are committed (with every entry queued beside them).

        Raises:
            InfrastructureError: the batch could not be written (nothing of it was).
        """
        if not self._thread.is_alive():
            raise InfrastructureError(f"the ledger writer for {self.url} is not running")
        item = _Item(entries)
        self._queue.put(item)
        item.done.wait()
        if item.error is not None:
            raise item.error

    def _write(self) -> None:
        from twokey.ledger import open_ledger  # noqa: PLC0415

        try:
            ledger = open_ledger(self.url)  # this thread's own connection
        except TwokeyError as exc:
            self._failed = exc
            self._ready.set()
            return
        self._ready.set()
        with ledger:
            while (batch := self._next_batch()) is not None:
                self._commit(ledger, batch)

    def _next_batch(self) -> list[_Item] | None:
        """Every item queued now (blocking for the first); None once asked to stop."""
        first = self._queue.get()
        if first is None:
            return None
        batch = [first]
        while len(batch) < self.max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)  # handled after this batch
                break
            batch.append(item)
        return batch

    def _commit(self, ledger: Ledger, batch: list[_Item]) -> None:
        try:
            with self.lock:
                ledger.append([e for item in batch for e in item.entries])
                if self.signer is not None and time.monotonic() - self._signed >= self.sign_every:
                    ledger.checkpoint(self.signer)
                    self._signed = time.monotonic()
        except TwokeyError as exc:
            for item in batch:
                item.error = InfrastructureError(f"cannot write the ledger: {exc.message}")
        except Exception as exc:
            for item in batch:
                item.error = InfrastructureError(f"cannot write the ledger: {exc}")
        for item in batch:
            item.done.set()
