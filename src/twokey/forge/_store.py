"""What the forge receiver keeps: deliveries seen, reviews (forge evidence), pending deploys.

Four tables beside the ledger, on its database URL, created when missing:

- ``twokey_forge_deliveries``: one row per delivery id and forge (the unique key makes
  :meth:`ForgeStore.first_time` atomic across gateway processes);
- ``twokey_forge_evidence``: one row per review (GitHub review id; GitLab ``iid:username``),
  its state updated when it is dismissed or withdrawn; the gateway and the audit read it;
- ``twokey_forge_changes``: per pull/merge request, its base, head, author and last pusher;
- ``twokey_pending_deployments``: deployments waiting for an operator's approval.
"""

from __future__ import annotations

__all__ = ["ChangeState", "DeliveryLog", "ForgeReview", "ForgeStore", "PendingDeployment"]

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from twokey.forge._db import Database, open_database

_TABLES = (
    """CREATE TABLE IF NOT EXISTS twokey_forge_deliveries (
        forge TEXT NOT NULL, delivery TEXT NOT NULL, received TEXT NOT NULL,
        PRIMARY KEY (forge, delivery))""",
    """CREATE TABLE IF NOT EXISTS twokey_forge_evidence (
        forge TEXT NOT NULL, repository TEXT NOT NULL, number BIGINT NOT NULL,
        review TEXT NOT NULL, login TEXT NOT NULL, bot INTEGER NOT NULL,
        commit_sha TEXT NOT NULL, state TEXT NOT NULL, time TEXT NOT NULL,
        delivery TEXT NOT NULL, PRIMARY KEY (forge, repository, review))""",
    """CREATE TABLE IF NOT EXISTS twokey_forge_changes (
        forge TEXT NOT NULL, repository TEXT NOT NULL, number BIGINT NOT NULL,
        base_ref TEXT NOT NULL, head TEXT NOT NULL, author TEXT NOT NULL, pusher TEXT NOT NULL,
        PRIMARY KEY (forge, repository, number))""",
    """CREATE TABLE IF NOT EXISTS twokey_pending_deployments (
        forge TEXT NOT NULL, repository TEXT NOT NULL, deployment TEXT NOT NULL,
        environment TEXT NOT NULL, commit_sha TEXT NOT NULL, artifact TEXT NOT NULL,
        deployer TEXT NOT NULL,
        callback TEXT NOT NULL, delivery TEXT NOT NULL, created TEXT NOT NULL,
        PRIMARY KEY (forge, repository, deployment))""",
)
_PG_MIGRATION_LOCK = 0x74776F66  # "twof": one creator of the forge tables at a time


class DeliveryLog(Protocol):
    """Which deliveries were already received (a replay does nothing)."""

    def first_time(self, forge: str, delivery: str) -> bool:
        """Record ``delivery`` of ``forge``; True only for the first caller (atomic)."""
        ...

    def forget(self, forge: str, delivery: str) -> None:
        """Undo :meth:`first_time` when the delivery could not be recorded in the ledger, so
        the forge's retry is not refused as a replay."""
        ...


@dataclass(frozen=True)
class ForgeReview:
    """A review as the forge reported it; ``state`` is the forge's, lower case."""

    forge: str
    repository: str
    number: int
    review: str
    login: str
    bot: bool
    commit: str
    state: str  # approved | changes_requested | commented | dismissed
    time: datetime
    delivery: str


@dataclass(frozen=True)
class ChangeState:
    """A pull/merge request as the last delivery about it said."""

    forge: str
    repository: str
    number: int
    base_ref: str
    head: str
    author: str
    pusher: str  # "" when no delivery said who pushed the head


@dataclass(frozen=True)
class PendingDeployment:
    """A deployment that waits for an operator's approval before twokey answers the forge."""

    forge: str
    repository: str
    deployment: str
    environment: str
    commit: str
    artifact: str
    deployer: str
    callback: str
    delivery: str


class ForgeStore:
    """The four tables on one database (SQLite or PostgreSQL)."""

    def __init__(self, url: str) -> None:
        self.db: Database = open_database(url)
        self._create()

    def _create(self) -> None:
        with self.db.transaction():
            if self.db.postgres:  # concurrent CREATE IF NOT EXISTS can collide in PostgreSQL
                self.db.rows("SELECT pg_advisory_xact_lock(?)", (_PG_MIGRATION_LOCK,))
            for sql in _TABLES:
                self.db.execute(sql)

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def first_time(self, forge: str, delivery: str) -> bool:
        """Insert the delivery; the primary key lets exactly one caller succeed."""
        inserted = self.db.execute(
            "INSERT INTO twokey_forge_deliveries (forge, delivery, received) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (forge, delivery, datetime.now(UTC).isoformat()),
        )
        return inserted == 1

    def forget(self, forge: str, delivery: str) -> None:
        """Remove the delivery (see :meth:`DeliveryLog.forget`)."""
        self.db.execute(
            "DELETE FROM twokey_forge_deliveries WHERE forge = ? AND delivery = ?",
            (forge, delivery),
        )

    def save_review(self, review: ForgeReview) -> None:
        """Insert or update one review (a dismissal changes the state of the same review)."""
        self.db.execute(
            "INSERT INTO twokey_forge_evidence (forge, repository, number, review, login, bot, "
            "commit_sha, state, time, delivery) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (forge, repository, review) DO UPDATE SET state = excluded.state, "
            "time = excluded.time, delivery = excluded.delivery",
            (
                review.forge,
                review.repository,
                review.number,
                review.review,
                review.login,
                int(review.bot),
                review.commit,
                review.state,
                review.time.isoformat(),
                review.delivery,
            ),
        )

    def reviews(self, forge: str, repository: str, number: int) -> list[ForgeReview]:
        """Every review of one pull/merge request, oldest first."""
        rows = self.db.rows(
            "SELECT forge, repository, number, review, login, bot, commit_sha, state, time, "
            "delivery FROM twokey_forge_evidence WHERE forge = ? AND repository = ? AND "
            "number = ? ORDER BY time, review",
            (forge, repository, number),
        )
        return [_review(r) for r in rows]

    def reviews_of_commits(
        self, forge: str, repository: str, commits: list[str]
    ) -> list[ForgeReview]:
        """Every review of any of ``commits`` (a release's approvals, for a deployment)."""
        found: list[ForgeReview] = []
        numbers = {
            int(r[0])
            for sha in commits
            for r in self.db.rows(
                "SELECT DISTINCT number FROM twokey_forge_evidence WHERE forge = ? AND "
                "repository = ? AND commit_sha = ?",
                (forge, repository, sha),
            )
        }
        for number in sorted(numbers):
            found += self.reviews(forge, repository, number)
        return found

    def save_change(self, change: ChangeState) -> None:
        """Insert or update a pull/merge request; the pusher is kept when none is named."""
        self.db.execute(
            "INSERT INTO twokey_forge_changes (forge, repository, number, base_ref, head, author, "
            "pusher) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (forge, repository, number) DO "
            "UPDATE SET base_ref = excluded.base_ref, head = excluded.head, "
            "author = CASE WHEN excluded.author = '' THEN twokey_forge_changes.author "
            "ELSE excluded.author END, "
            "pusher = CASE WHEN excluded.pusher = '' THEN twokey_forge_changes.pusher "
            "ELSE excluded.pusher END",
            (
                change.forge,
                change.repository,
                change.number,
                change.base_ref,
                change.head,
                change.author,
                change.pusher,
            ),
        )

    def change(self, forge: str, repository: str, number: int) -> ChangeState | None:
        """The pull/merge request as last recorded, or None."""
        rows = self.db.rows(
            "SELECT base_ref, head, author, pusher FROM twokey_forge_changes WHERE forge = ? "
            "AND repository = ? AND number = ?",
            (forge, repository, number),
        )
        if not rows:
            return None
        row = rows[0]
        return ChangeState(forge, repository, number, row[0], row[1], row[2], row[3])

    def add_pending(self, pending: PendingDeployment) -> None:
        """Remember a deployment that waits for an operator (once per deployment)."""
        self.db.execute(
            "INSERT INTO twokey_pending_deployments (forge, repository, deployment, environment, "
            "commit_sha, artifact, deployer, callback, delivery, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (
                pending.forge,
                pending.repository,
                pending.deployment,
                pending.environment,
                pending.commit,
                pending.artifact,
                pending.deployer,
                pending.callback,
                pending.delivery,
                datetime.now(UTC).isoformat(),
            ),
        )

    def pending(self, repository: str = "") -> list[PendingDeployment]:
        """Deployments still waiting (of one repository, or all)."""
        sql = (
            "SELECT forge, repository, deployment, environment, commit_sha, artifact, deployer, "
            "callback, delivery FROM twokey_pending_deployments"
        )
        params: tuple[str, ...] = ()
        if repository:
            sql, params = f"{sql} WHERE repository = ?", (repository,)
        rows = self.db.rows(f"{sql} ORDER BY created, deployment", params)
        return [PendingDeployment(*r) for r in rows]

    def settle(self, pending: PendingDeployment) -> bool:
        """Remove a pending deployment; True for the one caller that removed it (so two
        gateways re-evaluating at once answer the forge once)."""
        deleted = self.db.execute(
            "DELETE FROM twokey_pending_deployments WHERE forge = ? AND repository = ? AND "
            "deployment = ?",
            (pending.forge, pending.repository, pending.deployment),
        )
        return deleted == 1


def _review(row: tuple[object, ...]) -> ForgeReview:
    f, repo, number, review, login, bot, commit, state, time, delivery = (str(v) for v in row)
    when = datetime.fromisoformat(time)
    return ForgeReview(
        f, repo, int(number), review, login, bot == "1", commit, state, when, delivery
    )
