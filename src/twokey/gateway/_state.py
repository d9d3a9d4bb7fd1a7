"""One gateway process's state: its database, ledger, signing key, repository and clock.

Stateless apart from the database: every process of a gateway opens the same database URL,
so any number of them serve it (ADR 0024). A ledger connection is opened per thread (FastAPI
runs plain route functions in a thread pool; a SQLite connection belongs to its thread).
"""

from __future__ import annotations

__all__ = ["Gateway"]

import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from twokey._files import SECRET, write_new
from twokey.errors import (
    ConfigError,
    InfrastructureError,
    TwokeyError,
    UsageError,
    VerificationError,
)
from twokey.forge import ForgeStore
from twokey.gateway._config import GatewayConfig
from twokey.ledger import Ledger, NoteSigner, generate_signer, open_ledger

if TYPE_CHECKING:
    from twokey.doors import TrustedPolicy
    from twokey.forge import Database
    from twokey.git import GitReader
    from twokey.ledger import Entry

Clock = Callable[[], datetime]
log = logging.getLogger("twokey.gateway")
_POLICY_PATH = ".twokey/policy.yml"
_PG_SCHEMA_LOCK = 0x7477676B  # "twgk": one creator of the gateway's tables at a time


def _system_clock() -> datetime:
    return datetime.now(UTC)


class Gateway:
    """What every route reads: ``config``, ``db`` (the gateway's tables), the ledger, the
    signer of its checkpoints and authorizations, the repository and the clock.

    Features keep their tables in ``db`` (beside the ledger, in one SQLite file or PostgreSQL
    schema); each creates them in its ``setup(gateway)`` at start-up.
    """

    def __init__(self, config: GatewayConfig, clock: Clock = _system_clock) -> None:
        self.config = config
        self.clock = clock
        self.store = ForgeStore(config.database_url)
        self.db: Database = self.store.db
        self.signer = _signer(config.key_path, config.origin)
        self._local = threading.local()
        self._ledgers: list[Ledger] = []
        self._lock = threading.Lock()
        self._generation = 0  # bumped when the ledger fails: every thread reconnects
        self._seen = 0  # the most entries this process has seen in its ledger
        self._pending: list[_Pending] = []  # entries waiting for the next group commit
        self._queue_lock = threading.Lock()
        self._commit_lock = threading.Lock()
        self._lock_file: BinaryIO | None = None  # SQLite: the writers' flock
        self.repository = config.repository or _repository_id(config.repo)
        # The trusted policy by (default branch, policy blob): compiled once per blob.
        self._policy: tuple[tuple[str, str], TrustedPolicy] | None = None

    def now(self) -> datetime:
        """The gateway's clock (never a caller's)."""
        return self.clock()

    def ledger(self) -> Ledger:
        """This thread's ledger connection: opened on first use, and again after any thread
        of this process saw the ledger fail (one outage heals every thread's connection).

        Raises:
            InfrastructureError: it cannot be opened, or it holds fewer entries than this
                process has already seen: replaced or rolled back, never written to (a
                re-created empty database would otherwise start a second log).
        """
        ledger: Ledger | None = getattr(self._local, "ledger", None)
        stale = getattr(self._local, "generation", -1) != self._generation
        if ledger is not None and (stale or _dropped(ledger)):
            self._forget(ledger)
            ledger = None
        if ledger is None:
            ledger = self._open_ledger()
        return ledger

    def _open_ledger(self) -> Ledger:
        generation = self._generation
        try:
            ledger = open_ledger(self.config.database_url)
        except Exception as exc:
            self.ledger_failed()
            if isinstance(exc, TwokeyError):
                raise
            raise InfrastructureError(f"the ledger cannot be opened: {exc}") from exc
        self._local.ledger, self._local.generation = ledger, generation
        with self._lock:
            self._ledgers.append(ledger)
        floor = self._seen  # read first: every entry counted in it was committed before
        try:
            size = ledger.size()
        except Exception as exc:
            self._forget(ledger)
            self.ledger_failed()
            raise InfrastructureError(f"the ledger cannot be read: {exc}") from exc
        if size < floor:
            self._forget(ledger)
            raise InfrastructureError(
                f"the ledger holds {size} entries, fewer than the {floor} this gateway "
                "has seen: it was replaced or rolled back; nothing is recorded in it",
                hint="restore the database (twokey ledger verify), then restart the gateway",
            )
        self._seen = max(self._seen, size)
        return ledger

    def ledger_failed(self) -> None:
        """Some use of the ledger failed: every thread opens a new connection on its next use
        (a server restart or ``pg_terminate_backend`` drops them all at once)."""
        with self._lock:
            self._generation += 1

    def _forget(self, ledger: Ledger) -> None:
        with self._lock:
            if ledger in self._ledgers:
                self._ledgers.remove(ledger)
        self._local.ledger = None
        try:
            ledger.close()
        except Exception:
            log.debug("closing a dropped ledger connection failed", exc_info=True)

    def record(self, entries: Sequence[Entry]) -> list[int]:
        """Append ``entries`` to the ledger before anything takes effect (invariant 9).

        Group commit: the requests of this process that arrive while a transaction is being
        written go into the next one together (one durable commit, one ``fsync``, for all of
        them); each caller returns only once its own entries are committed, and a failed
        transaction fails every caller in it.

        Raises:
            InfrastructureError: the ledger cannot be written (the caller answers 503, deny).
        """
        item = _Pending(list(entries))
        with self._queue_lock:
            self._pending.append(item)
        with self._commit_lock:
            if not item.done:  # nobody committed it while this thread waited: lead a batch
                with self._writers():
                    with self._queue_lock:
                        batch, self._pending = self._pending, []
                    self._commit(batch)
        if item.error is not None:
            raise item.error
        return item.indexes

    @contextmanager
    def _writers(self) -> Iterator[None]:
        """One writing process at a time on a SQLite file (an ``flock`` beside it): SQLite's
        own busy handler polls with sleeps of up to 100 ms, which starves a process under
        load; the kernel hands the lock over at once. PostgreSQL queues writers itself."""
        if self.db.postgres:
            yield
            return
        if self._lock_file is None:
            path = self.config.database_url.removeprefix("sqlite://") + ".writers"
            self._lock_file = open(path, "a+b")  # noqa: SIM115 - held for the process's life
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    def _commit(self, batch: list[_Pending]) -> None:
        """One transaction for every entry of ``batch``; each item gets its indexes or error."""
        error: TwokeyError | None = None
        indexes: list[int] = []
        try:
            indexes = self.ledger().append([e for item in batch for e in item.entries])
        except TwokeyError as exc:
            error = exc
        except Exception as exc:  # fail closed: any failure to record is an outage
            error = InfrastructureError(f"the ledger cannot be written: {exc}")
        if error is not None:
            self.ledger_failed()
        elif indexes:
            self._seen = max(self._seen, indexes[-1] + 1)
        at = 0
        for item in batch:
            item.error = error
            item.indexes = indexes[at : at + len(item.entries)]
            at += len(item.entries)
            item.done = True

    def reader(self) -> GitReader:
        """A reader of the gateway's repository.

        Raises:
            ConfigError: the gateway was started without ``--repo``.
        """
        from twokey.git import GitReader  # noqa: PLC0415

        if self.config.repo is None:
            raise ConfigError(
                "the gateway has no repository", hint="start it with twokey serve --repo GIT-DIR"
            )
        return GitReader(self.config.repo, env={})

    def policy(self, reader: GitReader | None = None) -> TrustedPolicy:
        """The trusted policy: the repository's protected default branch, as the server has it
        (never a caller's checkout or request).

        Raises:
            ConfigError: no repository, or no valid policy on its default branch.
        """
        from twokey.doors import trusted_policy  # noqa: PLC0415

        reader = reader or self.reader()
        ref = self.default_ref(reader)
        found = reader.blob_at(ref, _POLICY_PATH) if ref else None
        key = (ref, found[0]) if found is not None else None
        cached = self._policy
        if key is not None and cached is not None and cached[0] == key:
            return cached[1]  # the same blob on the same branch: the same policy
        trusted = trusted_policy(reader, ref)
        if key is not None and trusted.blob == key[1]:
            self._policy = (key, trusted)
        return trusted

    def default_ref(self, reader: GitReader | None = None) -> str:
        """The repository's default branch (where the trusted policy lives): the branch HEAD
        names, through symbolic refs, as the hook resolves it.

        Raises:
            InfrastructureError: symbolic refs nested deeper than git follows them.
        """
        from twokey.doors import through_symrefs  # noqa: PLC0415

        reader = reader or self.reader()
        return through_symrefs(reader.git, [], reader.head_ref())[1]

    def create_tables(self, statements: Sequence[str]) -> None:
        """Run a feature's ``CREATE TABLE IF NOT EXISTS`` statements, one process at a time
        (concurrent creations collide in PostgreSQL)."""
        with self.db.transaction():
            if self.db.postgres:
                self.db.rows("SELECT pg_advisory_xact_lock(?)", (_PG_SCHEMA_LOCK,))
            for sql in statements:
                self.db.execute(sql)

    def close(self) -> None:
        """Close every connection this process opened."""
        with self._lock:
            ledgers, self._ledgers = self._ledgers, []
        for ledger in ledgers:
            ledger.close()
        if self._lock_file is not None:
            self._lock_file.close()
        self.store.close()


@dataclass
class _Pending:
    """One caller's entries in a group commit, and what became of them."""

    entries: list[Entry]
    indexes: list[int] = field(default_factory=list)
    error: TwokeyError | None = None
    done: bool = False


def _dropped(ledger: Ledger) -> bool:
    """The ledger's PostgreSQL connection was dropped by the server (SQLite's never is)."""
    conn = getattr(ledger.store, "conn", None)
    return bool(getattr(conn, "closed", False)) and not isinstance(conn, sqlite3.Connection)


def _repository_id(repo: Path | None) -> str:
    if repo is None:
        return ""
    from twokey.git import GitRunner, repository_settings  # noqa: PLC0415

    return repository_settings(GitRunner.discover(repo), {}).repository


def _signer(path: Path, origin: str) -> NoteSigner:
    """The gateway's Ed25519 key: read, or created (0600) on the first start."""
    if not path.exists():
        try:
            write_new(path, (generate_signer(origin).text() + "\n").encode(), SECRET)
        except UsageError:
            if not path.exists():  # else another process of this gateway created it first
                raise
    try:
        return NoteSigner.parse(path.read_text())
    except OSError as exc:
        raise InfrastructureError(f"cannot read the gateway's key {path}: {exc}") from exc
    except VerificationError as exc:
        raise ConfigError(f"{path} is not a signed-note private key: {exc}") from exc


def key_mode_ok(path: Path) -> bool:
    """The key file is readable by its owner only (``/readyz`` checks it)."""
    try:
        return (os.stat(path).st_mode & 0o077) == 0
    except OSError:
        return False
