"""The outbox: forge calls leave the request path, survive crashes and forge outages, and
each action is performed once per claim, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tests.support.fakeforge import Answer, FakeForge, running_forge
from twokey.forge import (
    CommitStatus,
    DeploymentReview,
    GitHubApi,
    Outbox,
    OutboxActions,
    OutboxWorker,
    RetryPolicy,
)

SHA = "a" * 40
STATUS = f"/repos/o/r/statuses/{SHA}"
ONCE = RetryPolicy(attempts=1, timeout=2.0)


@pytest.fixture
def forge() -> Iterator[FakeForge]:
    with running_forge() as f:
        yield f


@pytest.fixture
def outbox(ledger_url: str) -> Iterator[Outbox]:
    box = Outbox(ledger_url, lease=60.0, max_attempts=3)
    yield box
    box.close()


def _github(forge: FakeForge) -> GitHubApi:
    return GitHubApi(lambda: {"Authorization": "token t"}, forge.url, ONCE)


def _queue_status(outbox: Outbox, now: float = 1000.0) -> None:
    OutboxActions(outbox, "github", clock=lambda: now).set_status(
        CommitStatus("github", "o/r", SHA, "success", "2 approvals", "https://gw/changes/1")
    )


def test_an_action_is_queued_then_performed_by_the_worker(outbox: Outbox, forge: FakeForge) -> None:
    forge.answer("POST", STATUS, Answer(201, {}))
    _queue_status(outbox)
    assert forge.calls == []  # queued only: nothing was sent on the request path
    assert outbox.counts() == {"pending": 1}
    worker = OutboxWorker(outbox, {"github": _github(forge)}, clock=lambda: 1000.0)
    assert worker.run_once() is True
    assert worker.run_once() is False
    assert outbox.counts() == {"done": 1}
    (call,) = forge.calls_to("POST", STATUS)
    assert call.body["context"] == "twokey/separation-of-duties"


def test_a_forge_outage_is_retried_later_until_done(outbox: Outbox, forge: FakeForge) -> None:
    forge.answer("POST", STATUS, Answer(502, {"message": "bad gateway"}), Answer(201, {}))
    _queue_status(outbox)
    now = [1000.0]
    worker = OutboxWorker(outbox, {"github": _github(forge)}, backoff=10.0, clock=lambda: now[0])
    assert worker.run_once() is True  # fails: due again in 10 s
    assert outbox.counts() == {"pending": 1}
    assert outbox.errors() == [(1, "set_status", 1, outbox.errors()[0][3])]
    assert "HTTP 502: bad gateway" in outbox.errors()[0][3]
    now[0] += 9
    assert worker.run_once() is False  # not due yet
    now[0] += 2
    assert worker.run_once() is True
    assert outbox.counts() == {"done": 1}
    assert len(forge.calls) == 2


def test_an_action_that_keeps_failing_ends_failed_for_an_operator(
    outbox: Outbox, forge: FakeForge
) -> None:
    forge.answer("POST", STATUS, Answer(422, {"message": "No commit found for SHA"}))
    _queue_status(outbox)
    now = [1000.0]
    worker = OutboxWorker(outbox, {"github": _github(forge)}, backoff=1.0, clock=lambda: now[0])
    for _ in range(3):
        assert worker.run_once() is True
        now[0] += 100
    assert worker.run_once() is False
    assert outbox.counts() == {"failed": 1}
    assert "No commit found for SHA" in outbox.errors()[0][3]


def test_a_crash_mid_call_loses_nothing(ledger_url: str, forge: FakeForge) -> None:
    """A worker claims the action and dies before marking it done: another process sees
    it due again once the lease ends, and performs it."""
    forge.answer("POST", STATUS, Answer(201, {}))
    first = Outbox(ledger_url, lease=30.0)
    _queue_status(first)
    assert first.claim(1000.0) is not None  # ... and the process dies here
    first.close()
    second = Outbox(ledger_url, lease=30.0)
    worker = OutboxWorker(second, {"github": _github(forge)}, clock=lambda: 1020.0)
    assert worker.run_once() is False  # still leased to the dead worker
    worker = OutboxWorker(second, {"github": _github(forge)}, clock=lambda: 1031.0)
    assert worker.run_once() is True
    assert second.counts() == {"done": 1}
    second.close()


def test_an_unknown_forge_is_kept_with_its_reason(outbox: Outbox) -> None:
    OutboxActions(outbox, "gitea", clock=lambda: 1000.0).review_deployment(
        DeploymentReview("gitea", "o/r", "7", "production", True, "ok", "https://x/cb")
    )
    OutboxWorker(outbox, {}, clock=lambda: 1000.0).run_once()
    assert "no API client configured for forge 'gitea'" in outbox.errors()[0][3]


def test_two_workers_never_claim_one_action_twice(ledger_url: str) -> None:
    boxes = [Outbox(ledger_url), Outbox(ledger_url)]
    for _ in range(30):
        _queue_status(boxes[0])
    claimed: list[list[int]] = [[], []]

    def drain(index: int) -> None:
        while (item := boxes[index].claim(1000.0)) is not None:
            claimed[index].append(item.id)
        boxes[index].release()

    threads = [threading.Thread(target=drain, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = claimed[0] + claimed[1]
    assert sorted(ids) == list(range(1, 31))
    for box in boxes:
        box.close()


def test_the_worker_thread_performs_actions_in_the_background(
    outbox: Outbox, forge: FakeForge
) -> None:
    callback = "/repos/o/r/actions/runs/9/deployment_protection_rule"
    forge.answer("POST", callback, Answer(204))
    worker = OutboxWorker(outbox, {"github": _github(forge)}, poll=0.05)
    worker.start()
    try:
        OutboxActions(outbox, "github").review_deployment(
            DeploymentReview(
                "github", "o/r", "9", "production", True, "approved by dave", forge.url + callback
            )
        )
        deadline = time.monotonic() + 10
        while outbox.counts() != {"done": 1} and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    assert outbox.counts() == {"done": 1}
    (call,) = forge.calls_to("POST", callback)
    assert call.body == {
        "environment_name": "production",
        "state": "approved",
        "comment": "approved by dave",
    }


def test_an_unknown_action_is_refused(outbox: Outbox) -> None:
    with pytest.raises(ValueError, match="unknown forge action 'merge'"):
        outbox.add("github", "merge", {}, 1000.0)
    assert outbox.counts() == {}


def test_a_gitlab_review_goes_to_its_deployment_approval_api(outbox: Outbox) -> None:
    review = DeploymentReview("gitlab", "group/app", "15", "production", False, "NO_PROVENANCE")
    OutboxActions(outbox, "gitlab", clock=lambda: 1000.0).review_deployment(review)
    item = outbox.claim(1000.0)
    assert item is not None
    assert item.args["callback_url"] == "projects/group%2Fapp/deployments/15/approval"
    assert item.args["approve"] is False


def test_a_gitlab_review_of_a_deployment_that_is_not_a_number_is_refused(outbox: Outbox) -> None:
    review = DeploymentReview("gitlab", "group/app", "15/../1", "production", True, "ok")
    with pytest.raises(ValueError, match="not a GitLab deployment id"):
        OutboxActions(outbox, "gitlab").review_deployment(review)
    assert outbox.counts() == {}
