"""What a recorded delivery does (the receiver's handler).

- a review or a GitLab approval is stored as forge evidence (a dismissal or an unapproval
  withdraws it), then its pull/merge request is judged again;
- a pull/merge request opened or pushed to is judged (the sender of a push is its last pusher);
- a GitHub ``deployment_protection_rule`` (``requested``), or a GitLab deployment ``blocked``
  for approval, is judged with the deploy rules and answered, or kept pending;
- pushes, plain deployments, deployment statuses, checks, statuses and pipelines are recorded
  only (invariant 13: a status anyone with write access can set proves nothing).

A repository without a mirror is recorded and its reviews stored, but not judged.
"""

from __future__ import annotations

__all__ = ["ForgeEffects"]

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from twokey.forge._actions import ForgeActions
from twokey.forge._deployments import DOOR as DOOR_DEPLOY
from twokey.forge._deployments import judge_deployment
from twokey.forge._events import DeploymentEvent, ForgeEvent, PullRequestEvent, ReviewEvent
from twokey.forge._judge import DOOR as DOOR_PULL
from twokey.forge._judge import Mirror, judge_change
from twokey.forge._store import ChangeState, ForgeReview, ForgeStore, PendingDeployment
from twokey.forge._webhooks import GITHUB, Delivery
from twokey.model import Decision

# Told of every decision recorded, with its door (the gateway's metrics).
Observer = Callable[[str, Decision], None]

# Pull request actions that may change the verdict (the head, the base, or the reviews).
_JUDGED = frozenset(
    {"opened", "synchronize", "reopened", "edited", "ready_for_review", "open", "update", "reopen"}
)


@dataclass
class ForgeEffects:
    """The handler: the store, the mirrors by (forge, repository), and the forge's API;
    ``observe`` is told of each decision recorded."""

    store: ForgeStore
    mirrors: Mapping[tuple[str, str], Mirror]
    actions: ForgeActions
    ledger: str
    gateway_url: str
    key: str | None = None
    observe: Observer | None = None

    def handle(self, delivery: Delivery, event: ForgeEvent, now: datetime) -> str:
        """Apply one event; returns what was done."""
        if isinstance(event, ReviewEvent):
            return self._review(delivery, event, now)
        if isinstance(event, PullRequestEvent):
            return self._pull(event, now)
        if isinstance(event, DeploymentEvent) and _waits_for_twokey(event):
            return self._deployment(delivery, event, now)
        return "recorded"

    def _review(self, delivery: Delivery, event: ReviewEvent, now: datetime) -> str:
        self.store.save_change(_change(event, pusher=""))
        review = ForgeReview(
            event.forge,
            event.repository,
            event.number,
            event.review,
            event.reviewer.login,
            event.reviewer.bot,
            event.commit,
            event.state,
            event.time,
            delivery.delivery,
        )
        self.store.save_review(review)
        return (
            f"review {event.state}; {self._judge(event.forge, event.repository, event.number, now)}"
        )

    def _pull(self, event: PullRequestEvent, now: datetime) -> str:
        pusher = event.sender.login if event.pushed else ""
        self.store.save_change(_change(event, pusher))
        if event.action not in _JUDGED:
            return "recorded"
        return self._judge(event.forge, event.repository, event.number, now)

    def _judge(self, forge: str, repository: str, number: int, now: datetime) -> str:
        mirror = self.mirrors.get((forge, repository))
        change = self.store.change(forge, repository, number)
        if mirror is None or change is None:
            return f"not judged: no mirror of {forge} {repository}"
        reviews = self.store.reviews(forge, repository, number)
        verdict = judge_change(
            mirror, change, reviews, now, self.ledger, self.gateway_url, self.key
        )
        if self.observe is not None:
            self.observe(DOOR_PULL, verdict.decision)
        self.actions.set_status(verdict.status)
        return f"status {verdict.status.state}"

    def _deployment(self, delivery: Delivery, event: DeploymentEvent, now: datetime) -> str:
        mirror = self.mirrors.get((event.forge, event.repository))
        if mirror is None:
            return f"not judged: no mirror of {event.forge} {event.repository}"
        pending = PendingDeployment(
            event.forge,
            event.repository,
            event.deployment,
            event.environment,
            event.commit,
            event.artifact,
            str(event.creator),
            event.callback,
            delivery.delivery,
        )
        answer = judge_deployment(mirror, pending, self.store, now, self.ledger, self.key)
        if self.observe is not None:
            self.observe(DOOR_DEPLOY, answer.decision)
        if answer.review is None:
            return "deployment pending: waits for an operator's approval"
        self.actions.review_deployment(answer.review)
        return "deployment approved" if answer.review.approved else "deployment rejected"


def _waits_for_twokey(event: DeploymentEvent) -> bool:
    if event.forge == GITHUB:
        return event.kind == "protection_rule" and event.action == "requested"
    return event.state == "blocked"  # GitLab: a deployment that waits for approval


def _change(event: PullRequestEvent | ReviewEvent, pusher: str) -> ChangeState:
    return ChangeState(
        event.forge,
        event.repository,
        event.number,
        event.base_ref,
        event.head,
        event.author.login,
        pusher,
    )
