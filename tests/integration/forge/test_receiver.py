"""The webhook receiver over real SQLite and PostgreSQL: every published payload, and every
bad delivery refused with nothing changed (no delivery row, no ledger entry)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.integration.forge._send import (
    LOCAL,
    NOW,
    PAYLOADS,
    deliveries_recorded,
    github_headers,
    gitlab_headers,
    receiver,
    send_github,
)
from twokey.errors import InfrastructureError
from twokey.forge import (
    CheckEvent,
    DeploymentEvent,
    ForgeStore,
    Ping,
    PullRequestEvent,
    PushEvent,
    ReviewEvent,
)

GITHUB_TYPES = {
    "ping": Ping,
    "pull_request": PullRequestEvent,
    "pull_request_review": ReviewEvent,
    "push": PushEvent,
    "deployment": DeploymentEvent,
    "deployment_status": DeploymentEvent,
    "check_suite": CheckEvent,
    "status": CheckEvent,
}
GITHUB_FILES = [
    *sorted(
        (event, path)
        for event in GITHUB_TYPES
        for path in (PAYLOADS / "github" / event).glob("*.json")
    ),
    ("deployment_protection_rule", LOCAL / "deployment_protection_rule.requested.json"),
    ("check_run", LOCAL / "check_run.completed.json"),
]
GITLAB_FILES = {
    "merge_request.open.json": ("Merge Request Hook", PullRequestEvent),
    "push.json": ("Push Hook", PushEvent),
    "pipeline.json": ("Pipeline Hook", CheckEvent),
    "deployment.json": ("Deployment Hook", DeploymentEvent),
}
UNHANDLED_GITHUB = ["branch_protection_rule", "workflow_run", "merge_group", "deployment_review"]
UNHANDLED_GITLAB = {
    "note.commit.json": "Note Hook",
    "tag_push.json": "Tag Push Hook",
    "job.json": "Job Hook",
}


@pytest.mark.parametrize(
    ("event", "path"), GITHUB_FILES, ids=[f"{e}/{p.name}" for e, p in GITHUB_FILES]
)
def test_every_github_payload_is_accepted_and_recorded(
    event: str, path: Path, tmp_path: Path
) -> None:
    url = f"sqlite://{tmp_path / 'ledger.db'}"
    rx, store = receiver(url)
    body = path.read_bytes()
    receipt = send_github(rx, event, body, "delivery-1")
    assert receipt.status == 202, receipt.reason
    kind = GITHUB_TYPES.get(event, CheckEvent if event == "check_run" else DeploymentEvent)
    assert isinstance(receipt.event, kind)
    [rec] = deliveries_recorded(url)
    assert (rec.forge, rec.delivery, rec.event) == ("github", "delivery-1", event)
    assert rec.body_sha256 == hashlib.sha256(body).hexdigest()
    assert receipt.event is not None
    assert rec.subject == receipt.event.subject
    assert not store.first_time("github", "delivery-1")  # the delivery is known now


@pytest.mark.parametrize("name", sorted(GITLAB_FILES))
def test_every_gitlab_payload_is_accepted_and_recorded(name: str, tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'ledger.db'}"
    rx, _ = receiver(url)
    event, kind = GITLAB_FILES[name]
    body = (PAYLOADS / "gitlab" / name).read_bytes()
    receipt = rx.receive("gitlab", gitlab_headers(event, "key-1"), body, NOW)
    assert receipt.status == 202, receipt.reason
    assert isinstance(receipt.event, kind)
    [rec] = deliveries_recorded(url)
    assert (rec.forge, rec.delivery, rec.event) == ("gitlab", "key-1", event)


def test_github_events_read_the_fields_twokey_uses(tmp_path: Path) -> None:
    rx, _ = receiver(f"sqlite://{tmp_path / 'l.db'}")
    body = (PAYLOADS / "github/pull_request_review/submitted.payload.json").read_bytes()
    event = send_github(rx, "pull_request_review", body).event
    assert isinstance(event, ReviewEvent)
    assert (event.repository, event.number, event.review, event.state) == (
        "Codertocat/Hello-World",
        2,
        "237895671",
        "commented",
    )
    assert (event.commit, event.base_ref, str(event.reviewer)) == (
        "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
        "refs/heads/master",
        "github:Codertocat",
    )
    body = (PAYLOADS / "github/pull_request_review/dismissed.payload.json").read_bytes()
    dismissed = send_github(rx, "pull_request_review", body).event
    assert isinstance(dismissed, ReviewEvent)
    assert dismissed.state == "dismissed"


def test_a_replayed_delivery_changes_nothing(database_url: str) -> None:
    rx, _ = receiver(database_url)
    body = (PAYLOADS / "github/push/payload.json").read_bytes()
    assert send_github(rx, "push", body, "d-1").status == 202
    again = send_github(rx, "push", body, "d-1")
    assert (again.status, again.reason) == (409, "delivery d-1 was already received")
    assert len(deliveries_recorded(database_url)) == 1
    gl = (PAYLOADS / "gitlab/push.json").read_bytes()
    headers = gitlab_headers("Push Hook", "same-key")
    assert rx.receive("gitlab", headers, gl, NOW).status == 202
    retry = {**headers, "X-Gitlab-Event-UUID": "another-uuid"}  # a retry keeps its key
    assert rx.receive("gitlab", retry, gl, NOW).status == 409
    assert len(deliveries_recorded(database_url)) == 2


def test_delivery_ids_are_unique_per_forge_across_processes(database_url: str) -> None:
    first, second = ForgeStore(database_url), ForgeStore(database_url)
    assert first.first_time("github", "x")
    assert not second.first_time("github", "x")
    assert second.first_time("gitlab", "x")  # another forge's id space
    first.close()
    second.close()


BAD = {
    "wrong-signature": (
        "push",
        lambda h: {**h, "X-Hub-Signature-256": "sha256=" + "0" * 64},
        None,
        401,
    ),
    "missing-signature": (
        "push",
        lambda h: {k: v for k, v in h.items() if "Signature" not in k},
        None,
        401,
    ),
    "unknown-event": ("issues", lambda h: h, None, 400),
    "truncated": ("push", lambda h: h, lambda b: b[: len(b) // 2], 400),
    "non-json": ("push", lambda h: h, lambda b: b"<html>not json</html>", 400),
    "several-megabytes": ("push", lambda h: h, lambda b: b + b" " * (3 * 1024 * 1024), 413),
    "payload-without-fields": ("push", lambda h: h, lambda b: b'{"ref": 1}', 422),
}


@pytest.mark.parametrize(("event", "headers", "body", "status"), BAD.values(), ids=BAD.keys())
def test_bad_deliveries_change_nothing(event, headers, body, status, database_url: str) -> None:  # type: ignore[no-untyped-def]
    rx, store = receiver(database_url)
    raw = (PAYLOADS / "github/push/payload.json").read_bytes()
    sent = body(raw) if body else raw
    signed = github_headers(event, sent, "bad-1")
    receipt = rx.receive("github", headers(signed), sent, NOW)
    assert receipt.status == status, receipt.reason
    assert receipt.event is None
    assert deliveries_recorded(database_url) == []
    assert store.first_time("github", "bad-1")  # the id was never taken


@pytest.mark.parametrize("event", UNHANDLED_GITHUB)
def test_unhandled_github_events_are_refused(event: str, tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'l.db'}"
    rx, _ = receiver(url)
    [path, *_] = sorted((PAYLOADS / "github" / event).glob("*.json"))
    receipt = send_github(rx, event, path.read_bytes())
    assert receipt.status == 400
    assert f"event {event!r}" in receipt.reason
    assert deliveries_recorded(url) == []


@pytest.mark.parametrize("name", sorted(UNHANDLED_GITLAB))
def test_unhandled_gitlab_events_are_refused(name: str, tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'l.db'}"
    rx, _ = receiver(url)
    body = (PAYLOADS / "gitlab" / name).read_bytes()
    receipt = rx.receive("gitlab", gitlab_headers(UNHANDLED_GITLAB[name]), body, NOW)
    assert receipt.status == 400
    assert deliveries_recorded(url) == []


def test_a_ledger_that_cannot_be_written_refuses_and_forgets_the_delivery(tmp_path: Path) -> None:
    store = ForgeStore(f"sqlite://{tmp_path / 'l.db'}")

    def broken(entries: object) -> None:
        raise InfrastructureError("disk full")

    from tests.integration.forge._send import SECRETS  # noqa: PLC0415
    from twokey.forge import Receiver  # noqa: PLC0415

    rx = Receiver(SECRETS, store, broken)
    body = (PAYLOADS / "github/push/payload.json").read_bytes()
    receipt = send_github(rx, "push", body, "d-9")
    assert (receipt.status, receipt.reason) == (
        503,
        "cannot record the delivery in the ledger: disk full",
    )
    assert store.first_time("github", "d-9")  # the forge's retry will be accepted


class _Failing:
    def __init__(self) -> None:
        self.calls = 0

    def handle(self, delivery: object, event: object, now: object) -> str:
        self.calls += 1
        if self.calls == 1:
            raise InfrastructureError("mirror unreachable")
        return "applied"


def test_a_handler_that_fails_leaves_the_delivery_to_be_redelivered(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'l.db'}"
    handler = _Failing()
    rx, _ = receiver(url, handler)
    body = (PAYLOADS / "github/push/payload.json").read_bytes()
    failed = send_github(rx, "push", body, "d-5")
    assert (failed.status, failed.reason) == (503, "recorded, but not applied: mirror unreachable")
    again = send_github(rx, "push", body, "d-5")  # GitHub's redelivery keeps the id
    assert (again.status, again.reason) == (202, "applied")
    assert [r.delivery for r in deliveries_recorded(url)] == ["d-5", "d-5"]  # both receipts
    assert send_github(rx, "push", body, "d-5").status == 409
