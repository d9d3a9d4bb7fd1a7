"""Forge events as typed objects: the payload is read here once, never indexed elsewhere.

Every field twokey uses is checked (type and shape); a payload without one is a
:class:`PayloadError` (the receiver answers 422 and records nothing). Fields twokey does not
use are ignored, so the forge may add new ones.
"""

from __future__ import annotations

__all__ = [
    "CheckEvent",
    "DeploymentEvent",
    "ForgeEvent",
    "Login",
    "PayloadError",
    "Ping",
    "PullRequestEvent",
    "PushEvent",
    "ReviewEvent",
    "parse_event",
]

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeAlias

from twokey.errors import UsageError
from twokey.forge._webhooks import GITHUB
from twokey.model import Alias, AliasKind

_BRANCH = re.compile(r"[^\x00-\x20\x7f~^:?*\[\\]{1,255}")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
# GitLab's project and group access tokens act as users named project_<id>_bot_<hex>.
_GITLAB_BOT = re.compile(r"(project|group)_\d+_bot\w*|.*\[bot\]|ghost")


class PayloadError(UsageError):
    """The payload lacks a field twokey needs, or holds the wrong type there."""


@dataclass(frozen=True)
class Login:
    """A forge account; ``bot`` for apps and bots (services: never an approver)."""

    forge: str
    login: str
    bot: bool = False

    @property
    def alias(self) -> Alias:
        """The policy alias (``github: bob`` is ``Alias(github, bob)``)."""
        kind = AliasKind.GITHUB if self.forge == GITHUB else AliasKind.GITLAB
        return Alias.login(kind, self.login)

    def __str__(self) -> str:
        return f"{self.forge}:{self.login}" if self.login else ""


@dataclass(frozen=True)
class Ping:
    """GitHub's ``ping`` when a webhook is created: accepted, changes nothing."""

    forge: str
    repository: str
    sender: Login
    action: str = ""
    subject: str = "ping"


@dataclass(frozen=True)
class PullRequestEvent:
    """A pull/merge request opened or changed; ``author`` is "" when the payload names none."""

    forge: str
    repository: str
    action: str
    number: int
    base_ref: str
    head: str
    author: Login
    sender: Login
    pushed: bool  # the head moved (opened, synchronize, reopened; GitLab open/update/reopen)

    @property
    def subject(self) -> str:
        return f"pull/{self.number}@{self.head}"


@dataclass(frozen=True)
class ReviewEvent:
    """A review (GitHub) or approval (GitLab) given or withdrawn, for the exact ``commit``."""

    forge: str
    repository: str
    action: str
    number: int
    review: str
    reviewer: Login
    state: str  # approved | changes_requested | commented | dismissed
    commit: str
    time: datetime
    base_ref: str
    head: str
    author: Login
    sender: Login

    @property
    def subject(self) -> str:
        return f"pull/{self.number}/review/{self.review}@{self.commit}"


@dataclass(frozen=True)
class PushEvent:
    """A push to a branch or tag."""

    forge: str
    repository: str
    ref: str
    before: str
    after: str
    sender: Login
    action: str = ""

    @property
    def subject(self) -> str:
        return f"{self.ref}@{self.after}"


@dataclass(frozen=True)
class DeploymentEvent:
    """A deployment created, waiting for a protection rule, or changing status.

    ``kind`` is ``deployment``, ``protection_rule`` or ``status``; ``callback`` is where a
    protection rule is answered (GitHub), "" otherwise. ``artifact`` is the ``sha256:<hex>``
    digest the deployment's ``payload`` names as ``artifact`` ("" when none: the deploy rules
    then find no build provenance and deny).
    """

    forge: str
    repository: str
    kind: str
    action: str
    deployment: str
    environment: str
    commit: str
    ref: str
    creator: Login
    sender: Login
    state: str = ""
    callback: str = ""
    artifact: str = ""  # the digest the deployment names (GitHub: ``payload.artifact``)

    @property
    def subject(self) -> str:
        return f"deployment/{self.deployment}@{self.commit}"


@dataclass(frozen=True)
class CheckEvent:
    """A check suite/run, commit status or pipeline: recorded, never evidence by itself
    (invariant 13: a status anyone with write access can set proves nothing)."""

    forge: str
    repository: str
    kind: str
    action: str
    name: str
    commit: str
    state: str
    sender: Login

    @property
    def subject(self) -> str:
        return f"{self.kind}/{self.name}@{self.commit}"


ForgeEvent: TypeAlias = (
    Ping | PullRequestEvent | ReviewEvent | PushEvent | DeploymentEvent | CheckEvent
)


def parse_event(forge: str, event: str, payload: Mapping[str, Any]) -> ForgeEvent:
    """The typed event of one authenticated delivery.

    Raises:
        PayloadError: a field twokey needs is missing or malformed.
    """
    if forge == GITHUB:
        from twokey.forge._github_events import parse_github  # noqa: PLC0415

        return parse_github(event, Reader(payload, event))
    from twokey.forge._gitlab_events import parse_gitlab  # noqa: PLC0415

    return parse_gitlab(event, Reader(payload, event))


class Reader:
    """Typed access to a JSON object; errors name the field's path."""

    def __init__(self, data: Mapping[str, Any], path: str) -> None:
        self.data = data
        self.path = path

    def obj(self, key: str) -> Reader:
        """The object at ``key``."""
        value = self.data.get(key)
        if not isinstance(value, dict):
            raise PayloadError(f"{self.path}.{key} must be an object")
        return Reader(value, f"{self.path}.{key}")

    def has(self, key: str) -> bool:
        """True when ``key`` holds an object."""
        return isinstance(self.data.get(key), dict)

    def text(self, key: str, default: str | None = None) -> str:
        """The string at ``key`` (``default`` when absent or null)."""
        value = self.data.get(key)
        if value is None and default is not None:
            return default
        if not isinstance(value, str):
            raise PayloadError(f"{self.path}.{key} must be a string")
        return value

    def integer(self, key: str) -> int:
        """The integer at ``key`` (not a boolean)."""
        value = self.data.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise PayloadError(f"{self.path}.{key} must be an integer")
        return value

    def branch(self, key: str) -> str:
        """A branch name at ``key``, as its full ref (``main`` -> ``refs/heads/main``)."""
        name = self.text(key)
        if not _BRANCH.fullmatch(name) or ".." in name:
            raise PayloadError(f"{self.path}.{key} must be a branch name")
        return f"refs/heads/{name.removeprefix('refs/heads/')}"

    def sha(self, key: str) -> str:
        """A full commit id at ``key``."""
        value = self.text(key)
        if not _SHA.fullmatch(value):
            raise PayloadError(f"{self.path}.{key} must be a full commit id")
        return value

    def time(self, key: str) -> datetime:
        """An RFC 3339 time at ``key`` (UTC when it names no offset)."""
        text = self.text(key)
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise PayloadError(f"{self.path}.{key} must be an RFC 3339 time") from exc
        return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def gitlab_login(forge: str, username: str) -> Login:
    """A GitLab user; access-token users (``project_7_bot_…``) are bots."""
    return Login(forge, username, bool(_GITLAB_BOT.fullmatch(username)))
