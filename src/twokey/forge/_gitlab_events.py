"""GitLab webhook payloads (doc/user/project/integrations/webhook_events.md) as typed events.

A merge request's ``approved``/``approval`` action is an approval by ``user`` of the request's
``last_commit``; ``unapproved``/``unapproval`` withdraws that user's approval. GitLab names the
author of a merge request by numeric id only (``author_id``): the author is known by login when
``user`` opened it (action ``open``).
"""

from __future__ import annotations

__all__ = ["parse_gitlab"]

import re
from datetime import UTC, datetime

from twokey.forge._events import (
    CheckEvent,
    DeploymentEvent,
    ForgeEvent,
    Login,
    PayloadError,
    PullRequestEvent,
    PushEvent,
    Reader,
    ReviewEvent,
    gitlab_login,
)
from twokey.forge._webhooks import GITLAB

_APPROVE = frozenset({"approved", "approval"})
_UNAPPROVE = frozenset({"unapproved", "unapproval"})
_PUSHED = frozenset({"open", "update", "reopen"})
_COMMIT_URL = re.compile(r".*/commit/([0-9a-f]{40}|[0-9a-f]{64})")


def parse_gitlab(event: str, data: Reader) -> ForgeEvent:
    """The typed event of a GitLab delivery (``event`` is ``X-Gitlab-Event``)."""
    if event == "Merge Request Hook":
        return _merge_request(data)
    if event == "Push Hook":
        return _push(data)
    if event == "Pipeline Hook":
        return _pipeline(data)
    if event == "Deployment Hook":
        return _deployment(data)
    raise PayloadError(f"unsupported GitLab event {event!r}")


def _user(data: Reader, key: str = "user") -> Login:
    return gitlab_login(GITLAB, data.obj(key).text("username"))


def _repo(data: Reader) -> str:
    return data.obj("project").text("path_with_namespace")


def _merge_request(data: Reader) -> ForgeEvent:
    attrs, user = data.obj("object_attributes"), _user(data)
    action = attrs.text("action", "")
    number, head = attrs.integer("iid"), attrs.obj("last_commit").sha("id")
    base_ref = attrs.branch("target_branch")
    author = user if action == "open" else Login(GITLAB, "")
    if action in _APPROVE or action in _UNAPPROVE:
        return ReviewEvent(
            GITLAB,
            _repo(data),
            action,
            number,
            f"{number}:{user.login}",
            user,
            "approved" if action in _APPROVE else "dismissed",
            head,
            _updated(attrs),
            base_ref,
            head,
            author,
            user,
        )
    return PullRequestEvent(
        GITLAB, _repo(data), action, number, base_ref, head, author, user, action in _PUSHED
    )


def _updated(attrs: Reader) -> datetime:
    """``updated_at``; GitLab writes both ``2013-12-03T17:23:34Z`` and ``… 17:23:34 UTC``."""
    text = attrs.text("updated_at").replace(" UTC", "+00:00")
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise PayloadError(f"{attrs.path}.updated_at must be a time") from exc
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _push(data: Reader) -> ForgeEvent:
    return PushEvent(
        GITLAB,
        _repo(data),
        data.text("ref"),
        data.sha("before"),
        data.sha("after"),
        gitlab_login(GITLAB, data.text("user_username")),
    )


def _pipeline(data: Reader) -> ForgeEvent:
    attrs = data.obj("object_attributes")
    return CheckEvent(
        GITLAB,
        _repo(data),
        "pipeline",
        "",
        f"pipeline {attrs.integer('id')}",
        attrs.sha("sha"),
        attrs.text("status"),
        _user(data),
    )


def _deployment(data: Reader) -> ForgeEvent:
    url = data.text("commit_url")
    match = _COMMIT_URL.fullmatch(url)
    if match is None:
        raise PayloadError("Deployment Hook.commit_url must end with /commit/<full commit id>")
    user = _user(data)
    return DeploymentEvent(
        GITLAB,
        _repo(data),
        "status",
        data.text("status"),
        str(data.integer("deployment_id")),
        data.text("environment"),
        match[1],
        data.text("ref", ""),
        user,
        user,
        data.text("status"),
    )
