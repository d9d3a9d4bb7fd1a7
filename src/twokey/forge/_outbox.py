"""Forge calls made off the request path, durably: a table of actions and a worker thread.

A webhook handler must answer the forge in milliseconds and must not lose an action when the
forge is slow, down or rate limiting. So the handler only appends a row to
``twokey_forge_outbox`` (same database as the ledger) through :class:`OutboxActions`, and a
:class:`OutboxWorker` thread performs the rows:

1. *claim* one due row atomically (``UPDATE … WHERE id = (SELECT … LIMIT 1) RETURNING``; on
   PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so several gateway processes share the table):
   the row's ``due`` moves one lease ahead, so a worker that crashes mid-call leaves it due
   again after the lease and nothing is lost;
2. call the forge through its :class:`ForgeActions`;
3. mark the row ``done``, or on a failure schedule it again with exponential backoff, until
   ``max_attempts``, after which it stays ``failed`` with its last error for an operator.

An action may therefore run twice (a crash after the call, before ``done``): both actions are
idempotent on the forge (a commit status is replaced; a second deployment review is refused).
"""

from __future__ import annotations

__all__ = ["Outbox", "OutboxActions", "OutboxItem", "OutboxWorker"]

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from twokey.errors import TwokeyError
from twokey.forge._actions import (
    CommitStatus,
    DeploymentReview,
    ForgeClient,
    check_repository,
)
from twokey.forge._db import Database, open_database

_TABLE = """CREATE TABLE IF NOT EXISTS twokey_forge_outbox (
    id {serial} PRIMARY KEY, forge TEXT NOT NULL, action TEXT NOT NULL, args TEXT NOT NULL,
    state TEXT NOT NULL, attempts INTEGER NOT NULL, due DOUBLE PRECISION NOT NULL,
    error TEXT NOT NULL, created DOUBLE PRECISION NOT NULL)"""
_INDEX = "CREATE INDEX IF NOT EXISTS twokey_forge_outbox_due ON twokey_forge_outbox (state, due)"
_CLAIM = """UPDATE twokey_forge_outbox SET due = ?, attempts = attempts + 1
    WHERE id = (SELECT id FROM twokey_forge_outbox WHERE state = 'pending' AND due <= ?
                ORDER BY due, id LIMIT 1{lock})
    RETURNING id, forge, action, args, attempts"""
_ACTIONS = ("set_status", "review_deployment")
_ERROR_LIMIT = 500


@dataclass(frozen=True)
class OutboxItem:
    """One claimed action: which forge, which call, its arguments, the attempt number."""

    id: int
    forge: str
    action: str
    args: dict[str, Any]
    attempt: int


class Outbox:
    """The ``twokey_forge_outbox`` table on a database URL (SQLite file or PostgreSQL)."""

    def __init__(self, url: str, *, lease: float = 300.0, max_attempts: int = 20) -> None:
        self._url = url
        self._local = threading.local()  # one connection per thread (sqlite3 requires it)
        self._opened: list[Database] = []
        self._opened_lock = threading.Lock()
        self.lease = lease
        self.max_attempts = max_attempts
        db = self._db()
        for sql in self.tables(db.postgres):
            db.execute(sql)

    @staticmethod
    def tables(postgres: bool) -> list[str]:
        """The statements that create the table (idempotent), for a caller that creates tables
        under its own lock first (the gateway: concurrent creations collide in PostgreSQL)."""
        return [_TABLE.format(serial="BIGSERIAL" if postgres else "INTEGER"), _INDEX]

    def _db(self) -> Database:
        db: Database | None = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = open_database(self._url)
            with self._opened_lock:
                self._opened.append(db)
        return db

    def release(self) -> None:
        """Close the calling thread's connection (a worker thread does, when it stops)."""
        db: Database | None = getattr(self._local, "db", None)
        if db is not None:
            self._local.db = None
            with self._opened_lock:
                self._opened.remove(db)
            db.close()

    def close(self) -> None:
        """Close the calling thread's connection, and other threads' PostgreSQL ones (a
        SQLite connection can only be closed by its own thread: :meth:`release`)."""
        self.release()
        with self._opened_lock:
            others, self._opened = self._opened, []
        for db in others:
            if db.postgres:
                db.close()

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        return self._db().execute(sql, params)

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self._db().rows(sql, params)

    def add(self, forge: str, action: str, args: Mapping[str, Any], now: float) -> int:
        """Append an action, due at once; returns its id."""
        if action not in _ACTIONS:
            raise ValueError(f"unknown forge action {action!r}")
        (row,) = self._rows(
            "INSERT INTO twokey_forge_outbox (forge, action, args, state, attempts, due, error,"
            " created) VALUES (?, ?, ?, 'pending', 0, ?, '', ?) RETURNING id",
            (forge, action, json.dumps(dict(args), sort_keys=True), now, now),
        )
        return int(row[0])

    def claim(self, now: float) -> OutboxItem | None:
        """The next due action, leased to the caller (None when nothing is due)."""
        lock = " FOR UPDATE SKIP LOCKED" if self._db().postgres else ""
        claimed = self._rows(_CLAIM.format(lock=lock), (now + self.lease, now))
        if not claimed:
            return None
        row = claimed[0]
        return OutboxItem(int(row[0]), row[1], row[2], json.loads(row[3]), int(row[4]))

    def done(self, item: OutboxItem) -> None:
        """The forge accepted the action."""
        self._execute("UPDATE twokey_forge_outbox SET state = 'done' WHERE id = ?", (item.id,))

    def failed(self, item: OutboxItem, error: str, now: float, backoff: float) -> None:
        """The call failed: due again after ``backoff`` (doubling per attempt), or ``failed``
        for good after ``max_attempts``."""
        final = item.attempt >= self.max_attempts
        due = now + backoff * 2 ** (item.attempt - 1)
        self._execute(
            "UPDATE twokey_forge_outbox SET state = ?, due = ?, error = ? WHERE id = ?",
            ("failed" if final else "pending", due, error[:_ERROR_LIMIT], item.id),
        )

    def counts(self) -> dict[str, int]:
        """Rows by state (``pending``, ``done``, ``failed``), for health pages and tests."""
        rows = self._rows("SELECT state, COUNT(*) FROM twokey_forge_outbox GROUP BY state")
        return {state: int(n) for state, n in rows}

    def errors(self) -> list[tuple[int, str, int, str]]:
        """``(id, action, attempts, last error)`` of rows that failed at least once."""
        rows = self._rows(
            "SELECT id, action, attempts, error FROM twokey_forge_outbox WHERE error != ''"
            " ORDER BY id"
        )
        return [(int(i), a, int(n), e) for i, a, n, e in rows]


class OutboxActions:
    """:class:`ForgeActions` that only append to the outbox (what a webhook handler uses)."""

    def __init__(self, outbox: Outbox, forge: str, clock: Callable[[], float] = time.time) -> None:
        self._outbox = outbox
        self._forge = forge
        self._clock = clock

    def set_status(self, status: CommitStatus) -> None:
        """Queue a commit status."""
        args = {
            "repo": status.repository,
            "sha": status.commit,
            "state": status.state,
            "description": status.description,
            "target_url": status.target_url,
            "context": status.context,
        }
        self._outbox.add(self._forge, "set_status", args, self._clock())

    def review_deployment(self, review: DeploymentReview) -> None:
        """Queue a deployment review: at GitHub's callback URL, or GitLab's approval API."""
        args = {
            "callback_url": review.callback or _gitlab_approval(review),
            "environment": review.environment,
            "approve": review.approved,
            "comment": review.comment,
        }
        self._outbox.add(self._forge, "review_deployment", args, self._clock())


def _gitlab_approval(review: DeploymentReview) -> str:
    """GitLab's ``POST /projects/:id/deployments/:deployment_id/approval`` for ``review``."""
    if not review.deployment.isdigit():
        raise ValueError(f"not a GitLab deployment id: {review.deployment!r}")
    project = quote(check_repository(review.repository), safe="")
    return f"projects/{project}/deployments/{review.deployment}/approval"


class OutboxWorker:
    """Performs the outbox's actions on the forges, in a daemon thread or one at a time."""

    def __init__(
        self,
        outbox: Outbox,
        forges: Mapping[str, ForgeClient],
        *,
        backoff: float = 5.0,
        poll: float = 0.5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._outbox = outbox
        self._forges = forges
        self._backoff = backoff
        self._poll = poll
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> bool:
        """Perform one due action; False when none was due."""
        item = self._outbox.claim(self._clock())
        if item is None:
            return False
        try:
            _perform(self._forges, item)
        except (TwokeyError, ValueError, TypeError, KeyError) as exc:
            self._outbox.failed(item, f"{type(exc).__name__}: {exc}", self._clock(), self._backoff)
        else:
            self._outbox.done(item)
        return True

    def start(self) -> None:
        """Run in a daemon thread until :meth:`stop`."""
        self._thread = threading.Thread(target=self._loop, name="twokey-outbox", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to stop after its current action, and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    busy = self.run_once()
                except TwokeyError:
                    busy = False  # the database is unreachable: try again after a pause
                if not busy:
                    self._stop.wait(self._poll)
        finally:
            self._outbox.release()


def _perform(forges: Mapping[str, ForgeClient], item: OutboxItem) -> None:
    actions = forges.get(item.forge)
    if actions is None:
        raise KeyError(f"no API client configured for forge {item.forge!r}")
    a = item.args
    if item.action == "set_status":
        actions.set_status(
            str(a["repo"]),
            str(a["sha"]),
            str(a["state"]),
            str(a["description"]),
            str(a["target_url"]),
            str(a["context"]),
        )
    elif item.action == "review_deployment":
        actions.review_deployment(
            str(a["callback_url"]), str(a["environment"]), a["approve"] is True, str(a["comment"])
        )
    else:
        raise ValueError(f"unknown forge action {item.action!r}")
