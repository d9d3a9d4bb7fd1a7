"""GitHub webhook payloads (docs.github.com, "Webhook events and payloads") as typed events."""

from __future__ import annotations

__all__ = ["parse_github"]

import re
from collections.abc import Callable

from twokey.forge._events import (
    CheckEvent,
    DeploymentEvent,
    ForgeEvent,
    Login,
    PayloadError,
    Ping,
    PullRequestEvent,
    PushEvent,
    Reader,
    ReviewEvent,
)
from twokey.forge._webhooks import GITHUB

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_PUSHED = frozenset({"opened", "synchronize", "reopened"})


def parse_github(event: str, data: Reader) -> ForgeEvent:
    """The typed event of a GitHub delivery (``event`` is ``X-GitHub-Event``)."""
    parse = _PARSERS.get(event)
    if parse is None:
        raise PayloadError(f"unsupported GitHub event {event!r}")
    return parse(data)


def _login(user: Reader) -> Login:
    """A GitHub account; apps (``[bot]`` logins, type ``Bot``) are bots."""
    login = user.text("login")
    return Login(GITHUB, login, login.endswith("[bot]") or user.text("type", "") == "Bot")


def _repo(data: Reader) -> str:
    return data.obj("repository").text("full_name")


def _ping(data: Reader) -> ForgeEvent:
    repo = data.obj("repository").text("full_name") if data.has("repository") else ""
    sender = _login(data.obj("sender")) if data.has("sender") else Login(GITHUB, "")
    return Ping(GITHUB, repo, sender)


def _pull(data: Reader) -> PullRequestEvent:
    pull = data.obj("pull_request")
    action = data.text("action")
    return PullRequestEvent(
        GITHUB,
        _repo(data),
        action,
        pull.integer("number"),
        pull.obj("base").branch("ref"),
        pull.obj("head").sha("sha"),
        _login(pull.obj("user")),
        _login(data.obj("sender")),
        action in _PUSHED,
    )


def _review(data: Reader) -> ReviewEvent:
    pull, review = _pull(data), data.obj("review")
    action = data.text("action")
    state = "dismissed" if action == "dismissed" else review.text("state").lower()
    return ReviewEvent(
        GITHUB,
        pull.repository,
        action,
        pull.number,
        str(review.integer("id")),
        _login(review.obj("user")),
        state,
        review.sha("commit_id"),
        review.time("submitted_at"),
        pull.base_ref,
        pull.head,
        pull.author,
        pull.sender,
    )


def _push(data: Reader) -> PushEvent:
    return PushEvent(
        GITHUB,
        _repo(data),
        data.text("ref"),
        data.sha("before"),
        data.sha("after"),
        _login(data.obj("sender")),
    )


def _deployment(kind: str) -> Callable[[Reader], ForgeEvent]:
    def parse(data: Reader) -> ForgeEvent:
        deploy = data.obj("deployment")
        status = data.obj("deployment_status").text("state") if kind == "status" else ""
        return DeploymentEvent(
            GITHUB,
            _repo(data),
            kind,
            data.text("action", ""),
            str(deploy.integer("id")),
            data.text("environment") if kind == "protection_rule" else deploy.text("environment"),
            deploy.sha("sha"),
            deploy.text("ref", ""),
            _login(deploy.obj("creator")),
            _login(data.obj("sender")),
            status,
            data.text("deployment_callback_url") if kind == "protection_rule" else "",
            _artifact(deploy),
        )

    return parse


def _artifact(deploy: Reader) -> str:
    """``payload.artifact`` when it is a ``sha256:<hex>`` digest; "" otherwise."""
    payload = deploy.data.get("payload")
    value = payload.get("artifact") if isinstance(payload, dict) else None
    if isinstance(value, str) and _DIGEST.fullmatch(value):
        return value
    return ""


def _check(kind: str) -> Callable[[Reader], ForgeEvent]:
    def parse(data: Reader) -> ForgeEvent:
        check = data.obj(kind)
        app = check.obj("app") if check.has("app") else None
        app_name = (app.text("slug", "") or app.text("name", "")) if app is not None else ""
        state = check.text("conclusion", "") or check.text("status", "")
        name = check.text("name") if kind == "check_run" else app_name
        return CheckEvent(
            GITHUB,
            _repo(data),
            kind,
            data.text("action"),
            name,
            check.sha("head_sha"),
            state,
            _login(data.obj("sender")),
        )

    return parse


def _status(data: Reader) -> ForgeEvent:
    return CheckEvent(
        GITHUB,
        _repo(data),
        "status",
        "",
        data.text("context"),
        data.sha("sha"),
        data.text("state"),
        _login(data.obj("sender")),
    )


_PARSERS: dict[str, Callable[[Reader], ForgeEvent]] = {
    "ping": _ping,
    "pull_request": _pull,
    "pull_request_review": _review,
    "push": _push,
    "deployment": _deployment("deployment"),
    "deployment_protection_rule": _deployment("protection_rule"),
    "deployment_status": _deployment("status"),
    "check_suite": _check("check_suite"),
    "check_run": _check("check_run"),
    "status": _status,
}
