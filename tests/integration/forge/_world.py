"""A forge world: a bare mirror holding the policy and a pull request's commits, payload
copies rewritten to match its commits and logins, and a recording fake of ForgeActions."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.integration.forge._send import NOW, PAYLOADS, SECRETS, github_headers
from tests.support.gitrepo import ALICE, BOB, CAROL, ERIN, GitRepo, Person
from twokey.doors import record
from twokey.forge import (
    CommitStatus,
    DeploymentReview,
    ForgeEffects,
    ForgeStore,
    Mirror,
    Receipt,
    Receiver,
)
from twokey.ledger import Entry

REPO = "octo/shop"
REPOSITORY = "shop"
POLICY = """\
version: 1
people:
  alice: {name: Alice Smith, emails: [alice@example.com], github: alice, gitlab: alice}
  bob: {name: Bob Jones, emails: [bob@example.com], github: bob, gitlab: bob}
  carol: {name: Carol White, emails: [carol@example.com], github: carol, gitlab: carol}
  dave: {name: Dave Ops, emails: [dave@example.com], github: dave, gitlab: dave}
  erin: {name: Erin Admin, emails: [erin@example.com], github: erin, gitlab: erin}
  frank: {name: Frank Admin, emails: [frank@example.com], github: frank, gitlab: frank}
services:
  renovate: {name: Renovate, github: "renovate[bot]"}
groups:
  reviewers: [bob, carol]
  admins: [erin, frank]
branches:
  main:
    approvals: 1
    approvers: [reviewers]
policy_changes: {approvals: 2, approvers: [admins]}
"""


@dataclass
class RecordingActions:
    """A ForgeActions that records each call (the HTTP layer is forgeapi's, tested there)."""

    statuses: list[CommitStatus] = field(default_factory=list)
    reviews: list[DeploymentReview] = field(default_factory=list)

    def set_status(self, status: CommitStatus) -> None:
        self.statuses.append(status)

    def review_deployment(self, review: DeploymentReview) -> None:
        self.reviews.append(review)


@dataclass
class World:
    root: Path
    mirror: GitRepo
    work: GitRepo
    ledger: str
    store: ForgeStore
    actions: RecordingActions
    receiver: Receiver
    base: str
    number: int = 7

    def push_head(self, files: dict[str, str], who: Person, **kw: Any) -> str:
        """A commit on the pull request's branch, pushed to the mirror (as the forge has it)."""
        sha = self.work.commit(files, f"change by {who.name}", who, **kw)
        self.work.git("push", "-q", "origin", f"HEAD:refs/pull/{self.number}/head")
        return sha

    def send(self, event: str, payload: dict[str, Any], delivery: str = "") -> Receipt:
        body = json.dumps(payload).encode()
        return self.receiver.receive("github", github_headers(event, body, delivery), body, NOW)

    def pull(self, head: str, action: str = "synchronize", sender: str = "alice") -> Receipt:
        return self.send("pull_request", pull_payload(self.number, head, action, sender))

    def review(
        self, head: str, login: str, state: str = "approved", review_id: int = 1, **kw: Any
    ) -> Receipt:
        return self.send(
            "pull_request_review", review_payload(self.number, head, login, state, review_id, **kw)
        )

    @property
    def last(self) -> CommitStatus:
        return self.actions.statuses[-1]


def _load(path: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / "github" / path).read_text())
    return copy.deepcopy(data)


def _user(login: str, kind: str = "User") -> dict[str, Any]:
    return {"login": login, "id": abs(hash(login)) % 10**8, "type": kind}


def pull_payload(
    number: int, head: str, action: str, sender: str, author: str = "alice"
) -> dict[str, Any]:
    data = _load("pull_request/opened.payload.json")
    data["action"] = action
    data["number"] = number
    data["repository"]["full_name"] = REPO
    pull = data["pull_request"]
    pull["number"] = number
    pull["head"]["sha"] = head
    pull["base"]["ref"] = "main"
    pull["user"] = _user(author)
    data["sender"] = _user(sender)
    return data


def review_payload(
    number: int,
    head: str,
    login: str,
    state: str,
    review_id: int,
    *,
    author: str = "alice",
    kind: str = "User",
    commit: str = "",
) -> dict[str, Any]:
    data = _load("pull_request_review/submitted.payload.json")
    pulled = pull_payload(number, head, "submitted", login, author)
    data["pull_request"] = pulled["pull_request"]
    data["repository"] = pulled["repository"]
    data["action"] = "dismissed" if state == "dismissed" else "submitted"
    review = data["review"]
    review["id"] = review_id
    review["user"] = _user(login, kind)
    review["state"] = state
    review["commit_id"] = commit or head
    review["submitted_at"] = "2026-12-04T17:00:00Z"
    data["sender"] = _user(login, kind)
    return data


def make_world(root: Path, ledger: str, policy: str = POLICY) -> World:
    mirror = GitRepo.init(root / "mirror.git", bare=True)
    work = mirror.clone(root / "work", ERIN)
    base = work.commit({".twokey/policy.yml": policy, "app.py": "v1\n"}, "Policy", ERIN)
    work.git("push", "-q", "origin", "HEAD:refs/heads/main")
    store = ForgeStore(ledger)
    actions = RecordingActions()
    mirrors = {(forge, REPO): Mirror(mirror.path, REPOSITORY) for forge in ("github", "gitlab")}
    effects = ForgeEffects(store, mirrors, actions, ledger, "https://twokey.example")

    def append(entries: Sequence[Entry]) -> None:
        record(ledger, entries, key="")

    rx = Receiver(SECRETS, store, append, effects)
    return World(root, mirror, work, ledger, store, actions, rx, base)


__all__ = ["ALICE", "BOB", "CAROL", "World", "make_world"]
