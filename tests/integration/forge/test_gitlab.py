"""GitLab merge requests: approvals and unapprovals become (or stop being) forge evidence for
the request's last commit, and the status follows; a blocked deployment is answered."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.integration.forge._send import NOW, PAYLOADS, gitlab_headers
from tests.integration.forge._world import REPO, World, make_world
from tests.support.gitrepo import ALICE
from twokey.forge import Receipt


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path, f"sqlite://{tmp_path / 'ledger.db'}")


def _merge_request(head: str, action: str, user: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / "gitlab/merge_request.open.json").read_text())
    data["project"]["path_with_namespace"] = REPO
    data["user"]["username"] = user
    attrs = data["object_attributes"]
    attrs.update(iid=7, action=action, target_branch="main", updated_at="2026-12-04T17:00:00Z")
    attrs["last_commit"]["id"] = head
    return data


def _send(world: World, head: str, action: str, user: str) -> Receipt:
    body = json.dumps(_merge_request(head, action, user)).encode()
    headers = gitlab_headers("Merge Request Hook", str(uuid.uuid4()))
    return world.receiver.receive("gitlab", headers, body, NOW)


def test_an_approval_counts_and_an_unapproval_withdraws_it(world: World) -> None:
    head = world.push_head({"app.py": "v2\n"}, ALICE)
    assert _send(world, head, "open", "alice").status == 202
    assert (world.last.forge, world.last.state) == ("gitlab", "failure")
    assert _send(world, head, "approval", "bob").status == 202
    assert world.last.state == "success"
    assert world.last.gitlab_body()["name"] == "twokey/separation-of-duties"
    _send(world, head, "unapproval", "bob")
    assert world.last.state == "failure"
    assert world.last.gitlab_body()["state"] == "failed"


@pytest.mark.parametrize("user", ["alice", "project_12_bot_3f9a", "nobody-known"])
def test_the_author_a_token_bot_and_an_unknown_user_never_count(world: World, user: str) -> None:
    head = world.push_head({"app.py": "v2\n"}, ALICE)
    _send(world, head, "open", "alice")
    _send(world, head, "approved", user)
    assert world.last.state == "failure"


def test_an_approval_of_an_older_last_commit_is_stale(world: World) -> None:
    first = world.push_head({"app.py": "v2\n"}, ALICE)
    _send(world, first, "open", "alice")
    _send(world, first, "approval", "carol")
    assert world.last.state == "success"
    second = world.push_head({"app.py": "v3\n"}, ALICE)
    _send(world, second, "update", "alice")
    assert (world.last.state, world.last.commit) == ("failure", second)


def test_a_deployment_blocked_for_approval_is_answered(world: World) -> None:
    data: dict[str, Any] = json.loads((PAYLOADS / "gitlab/deployment.json").read_text())
    data["project"]["path_with_namespace"] = REPO
    data["status"] = "blocked"
    data["environment"] = "production"
    data["commit_url"] = f"https://gitlab.example/octo/shop/-/commit/{world.base}"
    body = json.dumps(data).encode()
    receipt = world.receiver.receive("gitlab", gitlab_headers("Deployment Hook"), body, NOW)
    assert receipt.status == 202, receipt.reason
    [review] = world.actions.reviews
    assert (review.forge, review.deployment, review.approved) == ("gitlab", "15", False)
    assert review.gitlab_body()["status"] == "rejected"
    assert "UNKNOWN_ENVIRONMENT" in review.comment  # the policy has no production


def test_a_successful_deployment_is_only_recorded(world: World) -> None:
    body = (PAYLOADS / "gitlab/deployment.json").read_bytes()
    receipt = world.receiver.receive("gitlab", gitlab_headers("Deployment Hook"), body, NOW)
    assert (receipt.status, receipt.reason) == (202, "recorded")
    assert world.actions.reviews == []
