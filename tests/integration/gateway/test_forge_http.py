"""The forges in the gateway, over real HTTP: ``twokey serve`` receives every published
webhook payload signed with the test secret, records it, judges pull/merge requests and
deployments on its mirror, and its outbox worker calls fake GitHub and GitLab APIs, off the
request path. Bad deliveries get a clear 4xx and change nothing. On SQLite and PostgreSQL, one
gateway process per engine for the whole module."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.integration.forge._send import LOCAL, PAYLOADS, github_headers, gitlab_headers
from tests.integration.forge._world import REPO, _user, pull_payload, review_payload
from tests.integration.gateway._forge_site import (
    GITHUB_TOKEN,
    GITLAB_API_TOKEN,
    GITLAB_PROJECT,
    REPOSITORY,
    Site,
    answer_statuses,
    forge_site,
    gitlab_status_path,
    status_path,
    wait_for_calls,
)
from tests.support.fakeforge import Answer
from tests.support.gateway import issue_token, start_gateway
from tests.support.gitrepo import ALICE
from twokey.evidence import GitEvidenceStore, sign_deploy_approval, sign_provenance
from twokey.ledger import DecisionRecord, DeployRecord

HANDLED_GITHUB = [
    "ping",
    "pull_request",
    "pull_request_review",
    "push",
    "deployment",
    "deployment_status",
    "check_suite",
    "status",
]
GITHUB_FILES = [
    *sorted(
        (event, path)
        for event in HANDLED_GITHUB
        for path in (PAYLOADS / "github" / event).glob("*.json")
    ),
    ("deployment_protection_rule", LOCAL / "deployment_protection_rule.requested.json"),
    ("check_run", LOCAL / "check_run.completed.json"),
]
GITLAB_FILES = {
    "merge_request.open.json": "Merge Request Hook",
    "push.json": "Push Hook",
    "pipeline.json": "Pipeline Hook",
    "deployment.json": "Deployment Hook",
}
UNHANDLED_GITHUB = ["branch_protection_rule", "workflow_run", "merge_group", "deployment_review"]
UNHANDLED_GITLAB = {
    "note.commit.json": "Note Hook",
    "note.issue.json": "Note Hook",
    "note.merge_request.json": "Note Hook",
    "note.snippet.json": "Note Hook",
    "tag_push.json": "Tag Push Hook",
    "job.json": "Job Hook",
    "emoji.award.json": "Emoji Hook",
    "release.create.json": "Release Hook",
}
ARTIFACT = "sha256:" + hashlib.sha256(b"shop-1.0.tar").hexdigest()
SIGNED = datetime(2026, 12, 1, 10, tzinfo=UTC)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    root = tmp_path_factory.mktemp(f"forge-http-{request.param}")
    with forge_site(root, request.param, "--forge-reevaluate", "1") as site:
        yield site


# -- every published payload ------------------------------------------------------------------


def test_every_github_payload_is_verified_recorded_and_stored(site: Site) -> None:
    before = site.ledger_size()
    sent: dict[str, bytes] = {}
    for event, path in GITHUB_FILES:
        body = path.read_bytes()
        delivery = f"every-{uuid.uuid4()}"
        response = site.post_github(event, body, delivery)
        assert response.status_code == 202, (event, path.name, response.text)
        assert response.json()["result"]
        sent[delivery] = body
    assert site.ledger_size() == before + len(GITHUB_FILES)
    recorded = {r.delivery: r for r in site.deliveries() if r.delivery in sent}
    assert set(recorded) == set(sent)
    for delivery, body in sent.items():
        assert recorded[delivery].body_sha256 == hashlib.sha256(body).hexdigest()
        assert recorded[delivery].door == "forge-webhook"
        assert site.delivery_taken("github", delivery)
    # The published review (Codertocat, a comment) is stored as forge evidence, not counted.
    rows = site.rows(
        "SELECT login, state, commit_sha FROM twokey_forge_evidence WHERE forge = 'github' "
        "AND repository = 'Codertocat/Hello-World' AND review = '237895671'"
    )
    assert rows == [("Codertocat", "commented", "ec26c3e57ca3a959ca5aad62de7213c562f8c821")]


def test_every_gitlab_payload_is_verified_and_recorded(site: Site) -> None:
    before = site.ledger_size()
    keys = []
    for name, event in sorted(GITLAB_FILES.items()):
        key = f"gl-every-{uuid.uuid4()}"
        response = site.post_gitlab(event, (PAYLOADS / "gitlab" / name).read_bytes(), key)
        assert response.status_code == 202, (name, response.text)
        keys.append(key)
    assert site.ledger_size() == before + len(GITLAB_FILES)
    found = {(r.forge, r.delivery) for r in site.deliveries()}
    assert {("gitlab", k) for k in keys} <= found


# -- bad deliveries: a clear 4xx and nothing changed ------------------------------------------

PUSH = PAYLOADS / "github/push/payload.json"
Mutation = Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]]
BAD: dict[str, tuple[str, Mutation, int, str]] = {
    "wrong-signature": (
        "push",
        lambda h, b: ({**h, "X-Hub-Signature-256": "sha256=" + "0" * 64}, b),
        401,
        "does not match",
    ),
    "signed-with-another-secret": (
        "push",
        lambda h, b: (github_headers("push", b"other body", h["X-GitHub-Delivery"]), b),
        401,
        "does not match",
    ),
    "missing-signature": (
        "push",
        lambda h, b: ({k: v for k, v in h.items() if "Signature" not in k}, b),
        401,
        "not signed",
    ),
    "unknown-event": ("issues", lambda h, b: (h, b), 400, "event 'issues'"),
    "no-delivery-id": (
        "push",
        lambda h, b: ({k: v for k, v in h.items() if k != "X-GitHub-Delivery"}, b),
        400,
        "X-GitHub-Delivery",
    ),
    "truncated": ("push", lambda h, b: (h, b[: len(b) // 2]), 400, "not JSON"),
    "non-json": ("push", lambda h, b: (h, b"<html>not json</html>"), 400, "not JSON"),
    "json-but-not-an-object": ("push", lambda h, b: (h, b"[1, 2]"), 400, "not an object"),
    "several-megabytes": ("push", lambda h, b: (h, b + b" " * (5 << 20)), 413, "limit"),
    "fields-missing": ("push", lambda h, b: (h, b'{"ref": 1}'), 422, "push"),
}


@pytest.mark.parametrize(("event", "mutate", "status", "reason"), BAD.values(), ids=BAD.keys())
def test_bad_github_deliveries_change_nothing(
    site: Site, event: str, mutate: Mutation, status: int, reason: str
) -> None:
    delivery = f"bad-{uuid.uuid4()}"
    raw = PUSH.read_bytes()
    headers, body = mutate(github_headers(event, raw, delivery), raw)
    if body is not raw:  # sign what is sent, unless the case is about the signature
        signed = github_headers(event, body, delivery)
        headers = {k: signed.get(k, v) for k, v in headers.items()}
    before = site.ledger_size()
    with site.gateway.client() as http:
        response = http.post("/v1/forge/github", content=body, headers=headers)
    assert response.status_code == status, response.text
    answer = response.json()
    assert reason in answer["error"]
    assert answer["hint"]
    assert site.ledger_size() == before
    assert not site.delivery_taken("github", delivery)


@pytest.mark.parametrize(
    "change",
    [
        lambda h: {**h, "X-Gitlab-Token": "not-our-token"},
        lambda h: {k: v for k, v in h.items() if k != "X-Gitlab-Token"},
    ],
    ids=["wrong-token", "missing-token"],
)
def test_gitlab_deliveries_without_our_token_change_nothing(
    site: Site, change: Callable[[dict[str, str]], dict[str, str]]
) -> None:
    key = f"gl-bad-{uuid.uuid4()}"
    before = site.ledger_size()
    with site.gateway.client() as http:
        response = http.post(
            "/v1/forge/gitlab",
            content=(PAYLOADS / "gitlab/push.json").read_bytes(),
            headers=change(gitlab_headers("Push Hook", key)),
        )
    assert response.status_code == 401
    assert "X-Gitlab-Token" in response.json()["error"]
    assert site.ledger_size() == before
    assert not site.delivery_taken("gitlab", key)


def test_unhandled_events_of_both_forges_are_refused(site: Site) -> None:
    before = site.ledger_size()
    for event in UNHANDLED_GITHUB:
        for path in sorted((PAYLOADS / "github" / event).glob("*.json")):
            response = site.post_github(event, path.read_bytes())
            assert response.status_code == 400, (event, path.name)
            assert f"event {event!r}" in response.json()["error"]
    for name, event in UNHANDLED_GITLAB.items():
        response = site.post_gitlab(event, (PAYLOADS / "gitlab" / name).read_bytes())
        assert response.status_code == 400, name
    assert site.ledger_size() == before


def test_a_replayed_delivery_changes_nothing(site: Site) -> None:
    delivery = f"replay-{uuid.uuid4()}"
    before = site.ledger_size()
    assert site.post_github("push", PUSH.read_bytes(), delivery).status_code == 202
    again = site.post_github("push", PUSH.read_bytes(), delivery)
    assert again.status_code == 409
    assert again.json()["error"] == f"delivery {delivery} was already received"
    key = f"gl-replay-{uuid.uuid4()}"
    gl = (PAYLOADS / "gitlab/push.json").read_bytes()
    assert site.post_gitlab("Push Hook", gl, key).status_code == 202
    assert site.post_gitlab("Push Hook", gl, key).status_code == 409  # GitLab's retry
    assert site.ledger_size() == before + 2


def test_a_forge_without_a_configured_secret_refuses_everything(tmp_path: Path) -> None:
    gateway = start_gateway(tmp_path / "data", env={"TWOKEY_GITHUB_WEBHOOK_SECRET": ""})
    try:
        body = PUSH.read_bytes()
        with gateway.client() as http:
            gh = http.post("/v1/forge/github", content=body, headers=github_headers("push", body))
            gl = http.post(
                "/v1/forge/gitlab",
                content=(PAYLOADS / "gitlab/push.json").read_bytes(),
                headers=gitlab_headers("Push Hook"),
            )
        assert gh.status_code == gl.status_code == 403
        assert "no webhook secret is configured for github" in gh.json()["error"]
        assert "gitlab" in gl.json()["error"]
    finally:
        gateway.stop()
    from twokey.ledger import open_ledger  # noqa: PLC0415

    with open_ledger(f"sqlite://{tmp_path / 'data' / 'gateway.db'}") as ledger:
        assert ledger.size() == 0


# -- pull requests: verdicts published by the outbox worker -----------------------------------


def _review(site: Site, number: int, head: str, login: str, review_id: int, **kw: Any) -> int:
    payload = review_payload(number, head, login, "approved", review_id, **kw)
    response = site.post_github("pull_request_review", payload)
    assert response.status_code == 202, response.text
    return response.status_code


def _statuses(site: Site, sha: str, count: int) -> list[dict[str, Any]]:
    calls = wait_for_calls(site.github, "POST", status_path(sha), count)
    assert all(c.headers["authorization"] == f"token {GITHUB_TOKEN}" for c in calls)
    return [c.json for c in calls]


def test_a_pull_request_verdict_is_published_off_the_request_path(site: Site) -> None:
    number = site.branch()
    head = site.push_head(number, {"app.py": f"v{number}\n"}, ALICE)
    # The forge's API does not answer until the test releases it; the webhook's answer does not
    # wait for it. Had the webhook waited, it would answer after the forge client's own time
    # limit (10 s) at the earliest; under any load the webhook's own work takes far less.
    release = threading.Event()
    held = Answer(201, {}, hold=release)
    site.github.answer("POST", status_path(head), held, Answer(201, {}))
    began = time.monotonic()
    try:
        response = site.post_github("pull_request", pull_payload(number, head, "opened", "alice"))
        took = time.monotonic() - began
    finally:
        release.set()
    assert response.status_code == 202, response.text
    assert response.json() == {"result": "status failure", "subject": f"pull/{number}@{head}"}
    assert took < 8.0, f"the webhook waited {took:.1f} s for the forge"
    [status] = _statuses(site, head, 1)
    assert status["state"] == "failure"
    assert status["context"] == "twokey/separation-of-duties"
    assert "INSUFFICIENT_APPROVALS" in status["description"]
    assert status["target_url"].endswith(f"/changes/github/{REPO}/{number}")


def test_reviews_that_must_not_count_never_do(site: Site) -> None:
    number = site.branch()
    head = site.push_head(number, {"app.py": f"v{number}\n"}, ALICE)
    answer_statuses(site, head)
    site.post_github("pull_request", pull_payload(number, head, "opened", "alice"))
    assert [s["state"] for s in _statuses(site, head, 1)] == ["failure"]
    refused = [
        ("mallory", {}),  # a login the policy does not know
        ("renovate[bot]", {"kind": "Bot"}),  # a bot (a service in the policy)
        ("alice", {}),  # the pull request's author
    ]
    for i, (login, kw) in enumerate(refused, start=2):
        _review(site, number, head, login, number * 10 + i, **kw)
        statuses = _statuses(site, head, i)
        assert statuses[-1]["state"] == "failure", (login, statuses[-1])
    _review(site, number, head, "bob", number * 10 + 9)
    assert _statuses(site, head, 5)[-1]["state"] == "success"
    rows = site.rows(
        "SELECT login, bot, state FROM twokey_forge_evidence WHERE repository = ? AND number = ?"
        " ORDER BY review",
        (REPO, number),
    )
    assert rows == [
        ("mallory", 0, "approved"),
        ("renovate[bot]", 1, "approved"),
        ("alice", 0, "approved"),
        ("bob", 0, "approved"),
    ]
    verdicts = [
        r.decision["verdict"]
        for r in site.records()
        if isinstance(r, DecisionRecord) and r.door == "forge-pull-request" and r.new == head
    ]
    assert verdicts == ["deny", "deny", "deny", "deny", "allow"]


def test_an_approval_of_an_older_head_is_stale(site: Site) -> None:
    number = site.branch()
    first = site.push_head(number, {"app.py": f"v{number}\n"}, ALICE)
    answer_statuses(site, first)
    site.post_github("pull_request", pull_payload(number, first, "opened", "alice"))
    _review(site, number, first, "bob", number * 10 + 1)
    assert [s["state"] for s in _statuses(site, first, 2)] == ["failure", "success"]
    second = site.push_head(number, {"app.py": f"v{number}.1\n"}, ALICE)
    answer_statuses(site, second)
    site.post_github("pull_request", pull_payload(number, second, "synchronize", "alice"))
    [status] = _statuses(site, second, 1)
    assert status["state"] == "failure"  # bob reviewed the first head, not this one


def _merge_request(number: int, head: str, action: str, user: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / "gitlab/merge_request.open.json").read_text())
    data["project"]["path_with_namespace"] = REPO
    data["user"]["username"] = user
    attrs = data["object_attributes"]
    attrs.update(iid=number, action=action, target_branch="main")
    attrs["updated_at"] = "2026-12-04T17:00:00Z"
    attrs["last_commit"]["id"] = head
    return data


def test_a_gitlab_merge_request_verdict_follows_approvals(site: Site) -> None:
    number = site.branch()
    head = site.push_head(number, {"app.py": f"v{number}\n"}, ALICE)
    answer_statuses(site, head)
    path = gitlab_status_path(head)
    steps = [("open", "alice", "failed"), ("approved", "alice", "failed")]
    steps += [("approved", "project_12_bot_3f9a", "failed"), ("approval", "bob", "success")]
    steps += [("unapproval", "bob", "failed")]
    for i, (action, user, state) in enumerate(steps, start=1):
        response = site.post_gitlab(
            "Merge Request Hook", _merge_request(number, head, action, user)
        )
        assert response.status_code == 202, response.text
        calls = wait_for_calls(site.gitlab, "POST", path, i)
        assert calls[-1].json["state"] == state, (action, user, calls[-1].json)
        assert calls[-1].json["name"] == "twokey/separation-of-duties"
        assert calls[-1].headers["private-token"] == GITLAB_API_TOKEN


# -- deployments: answered at the callback, once ----------------------------------------------


def _callback(site: Site, run: int) -> str:
    return f"/repos/{REPO}/actions/runs/{run}/deployment_protection_rule"


def _requested(site: Site, commit: str, creator: str, run: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (LOCAL / "deployment_protection_rule.requested.json").read_text()
    )
    data["repository"]["full_name"] = REPO
    data["environment"] = "production"
    data["deployment_callback_url"] = site.github.url + _callback(site, run)
    deploy = data["deployment"]
    deploy.update(id=run, sha=commit, ref="main", creator=_user(creator), environment="production")
    deploy["payload"] = {"artifact": ARTIFACT}
    data["sender"] = _user(creator)
    return data


def _landed_release(site: Site) -> str:
    """A change reviewed by bob on the forge, landed on main, built by the CI."""
    number = site.branch()
    head = site.push_head(number, {"app.py": f"v{number}\n"}, ALICE)
    answer_statuses(site, head)
    site.post_github("pull_request", pull_payload(number, head, "opened", "alice"))
    _review(site, number, head, "bob", number * 10 + 1)
    assert _statuses(site, head, 2)[-1]["state"] == "success"
    site.work.git("push", "-q", "origin", "HEAD:refs/heads/main")
    provenance = sign_provenance(
        site.keys.signers["ci"], artifact=ARTIFACT, repository=REPOSITORY, commit=head, when=SIGNED
    )
    GitEvidenceStore(site.mirror.path).put(provenance, ARTIFACT)
    return head


def test_a_deployment_waits_for_the_operator_and_is_answered_once(site: Site) -> None:
    head = _landed_release(site)
    run = next(site.numbers)
    site.github.answer("POST", _callback(site, run), Answer(204))
    response = site.post_github("deployment_protection_rule", _requested(site, head, "carol", run))
    assert response.status_code == 202, response.text
    assert response.json()["result"] == "deployment pending: waits for an operator's approval"
    time.sleep(2.5)  # re-evaluated (every second) but still waiting: nothing answered
    assert site.github.calls_to("POST", _callback(site, run)) == []
    pending = site.rows(
        "SELECT deployment, commit_sha, deployer FROM twokey_pending_deployments"
        " WHERE deployment = ?",
        (str(run),),
    )
    assert pending == [(str(run), head, "github:carol")]
    approval = sign_deploy_approval(
        site.keys.signers["dave"],
        artifact=ARTIFACT,
        environment="production",
        repository=REPOSITORY,
        commit=head,
        when=SIGNED,
    )
    GitEvidenceStore(site.mirror.path).put(approval, ARTIFACT)
    [call] = wait_for_calls(site.github, "POST", _callback(site, run), 1)
    assert call.json["state"] == "approved"
    assert call.json["environment_name"] == "production"
    assert call.headers["authorization"] == f"token {GITHUB_TOKEN}"
    time.sleep(2.5)  # later re-evaluations answer nothing more
    assert len(site.github.calls_to("POST", _callback(site, run))) == 1
    assert (
        site.rows("SELECT 1 FROM twokey_pending_deployments WHERE deployment = ?", (str(run),))
        == []
    )
    verdicts = [
        r.decision["verdict"]
        for r in site.records()
        if isinstance(r, DeployRecord)
        and r.door == "forge-deployment"
        and r.commit == head
        and r.deployer == "github:carol"
        and r.decision
    ]
    assert verdicts[0] == "deny"
    assert verdicts[-1] == "allow"
    assert verdicts.count("allow") == 1


def test_a_deployment_by_someone_not_allowed_is_rejected_naming_why(site: Site) -> None:
    head = _landed_release(site)
    run = next(site.numbers)
    site.github.answer("POST", _callback(site, run), Answer(204))
    response = site.post_github("deployment_protection_rule", _requested(site, head, "alice", run))
    assert response.status_code == 202, response.text
    assert response.json()["result"] == "deployment rejected"
    [call] = wait_for_calls(site.github, "POST", _callback(site, run), 1)
    assert call.json["state"] == "rejected"
    assert "UNAUTHORIZED_DEPLOYER" in call.json["comment"]


def test_a_gitlab_deployment_blocked_for_approval_is_answered_through_its_api(
    site: Site,
) -> None:
    head = _landed_release(site)
    deployment = next(site.numbers)
    approval = f"/projects/{GITLAB_PROJECT}/deployments/{deployment}/approval"
    site.gitlab.answer("POST", approval, Answer(201, {"status": "rejected"}))
    data: dict[str, Any] = json.loads((PAYLOADS / "gitlab/deployment.json").read_text())
    data["project"]["path_with_namespace"] = REPO
    data.update(status="blocked", environment="production", deployment_id=deployment)
    data["user"]["username"] = "alice"  # the release's author: no deployer of production
    data["commit_url"] = f"https://gitlab.example/octo/shop/-/commit/{head}"
    response = site.post_gitlab("Deployment Hook", data)
    assert response.status_code == 202, response.text
    assert response.json()["result"] == "deployment rejected"
    [call] = wait_for_calls(site.gitlab, "POST", approval, 1)
    assert call.json["status"] == "rejected"
    assert call.headers["private-token"] == GITLAB_API_TOKEN


def _token(site: Site, kind: str, subject: str) -> str:
    return issue_token(site.url, kind, subject, site.mirror.path)


def test_an_operator_approving_in_the_gateway_answers_the_forge_deployment(site: Site) -> None:
    head = _landed_release(site)
    run = next(site.numbers)
    site.github.answer("POST", _callback(site, run), Answer(204))
    response = site.post_github("deployment_protection_rule", _requested(site, head, "carol", run))
    assert response.json()["result"] == "deployment pending: waits for an operator's approval"
    # The same deploy asked for in the gateway; bob (a reviewer of the release) may not approve.
    body = {"environment": "production", "commit": head, "artifact": ARTIFACT}
    with site.gateway.client(_token(site, "person", "carol")) as http:
        asked = http.post("/v1/deploys", json=body)
    assert asked.status_code == 201, asked.text
    deploy = asked.json()["id"]
    with site.gateway.client(_token(site, "person", "bob")) as http:
        assert http.post(f"/v1/deploys/{deploy}/approve").status_code == 403
    time.sleep(1.5)  # re-evaluated meanwhile: still nothing answered
    assert site.github.calls_to("POST", _callback(site, run)) == []
    with site.gateway.client(_token(site, "person", "dave")) as http:
        approved = http.post(f"/v1/deploys/{deploy}/approve")
    assert approved.status_code == 200, approved.text
    [call] = wait_for_calls(site.github, "POST", _callback(site, run), 1)
    assert call.json["state"] == "approved"
    time.sleep(1.5)
    assert len(site.github.calls_to("POST", _callback(site, run))) == 1
