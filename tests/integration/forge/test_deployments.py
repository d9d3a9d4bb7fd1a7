"""GitHub deployment protection rules answered by the deploy rules, over a real bare mirror:
approved, rejected with the findings named, or kept pending until an operator approves."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.integration.forge._send import LOCAL, NOW
from tests.integration.forge._world import POLICY, REPO, REPOSITORY, World, _user, make_world
from tests.integration.git._harness import Keys
from tests.support.gitrepo import ALICE
from twokey.evidence import GitEvidenceStore, sign_deploy_approval, sign_provenance
from twokey.forge import reevaluate_pending
from twokey.ledger import DeployRecord, open_ledger, parse_entry, read_record

ARTIFACT = "sha256:" + hashlib.sha256(b"shop-1.0.tar").hexdigest()
SIGNED = datetime(2026, 12, 1, 10, tzinfo=UTC)
CALLBACK = "https://api.github.com/repos/octo/shop/actions/runs/1/deployment_protection_rule"


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys.generate()


def _policy(keys: Keys) -> str:
    pub = keys.public()
    assert POLICY.count("github: dave, gitlab: dave}") == 1
    text = POLICY.replace(
        "github: dave, gitlab: dave}",
        f'github: dave, gitlab: dave, keys: ["{pub["dave"]}"]}}',
    )
    text = text.replace(
        "services:\n",
        f'services:\n  ci: {{name: CI, emails: [ci@example.com], keys: ["{pub["ci"]}"]}}\n',
    )
    return text + (
        "environments:\n"
        "  production:\n"
        "    from: [main]\n"
        "    deployers: [dave, carol, bob]\n"
        "    approvals: 1\n"
        "    approvers: [dave]\n"
        "    separate: [authors, approvers]\n"
        "    builders: [ci]\n"
    )


@pytest.fixture
def world(tmp_path: Path, keys: Keys) -> World:
    world = make_world(tmp_path, f"sqlite://{tmp_path / 'ledger.db'}", _policy(keys))
    head = world.push_head({"app.py": "v2\n"}, ALICE)
    world.pull(head, "opened")
    world.review(head, "bob")  # bob approved the change on the forge
    assert world.last.state == "success"
    world.work.git("push", "-q", "origin", "HEAD:refs/heads/main")  # the change lands
    world.head = head  # type: ignore[attr-defined]
    return world


def _put(world: World, envelope: bytes) -> None:
    GitEvidenceStore(world.mirror.path).put(envelope, ARTIFACT)


def _provenance(world: World, keys: Keys, commit: str) -> None:
    _put(
        world,
        sign_provenance(
            keys.signers["ci"], artifact=ARTIFACT, repository=REPOSITORY, commit=commit, when=SIGNED
        ),
    )


def _operator_approves(world: World, keys: Keys, commit: str) -> None:
    envelope = sign_deploy_approval(
        keys.signers["dave"],
        artifact=ARTIFACT,
        environment="production",
        repository=REPOSITORY,
        commit=commit,
        when=SIGNED,
    )
    _put(world, envelope)


def _requested(
    commit: str, creator: str, artifact: str = ARTIFACT, deployment: int = 42
) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (LOCAL / "deployment_protection_rule.requested.json").read_text()
    )
    data["repository"]["full_name"] = REPO
    data["deployment_callback_url"] = CALLBACK
    deploy = data["deployment"]
    deploy.update(id=deployment, sha=commit, ref="main", creator=_user(creator))
    deploy["payload"] = {"artifact": artifact} if artifact else {}
    data["sender"] = _user(creator)
    return data


def _deploy_records(world: World) -> list[DeployRecord]:
    with open_ledger(world.ledger) as ledger:
        found = [read_record(parse_entry(data)) for _, data in ledger.entries()]
    return [r for r in found if isinstance(r, DeployRecord)]


def test_a_deployment_waits_for_the_operator_then_is_approved_once(
    world: World, keys: Keys
) -> None:
    head = world.head  # type: ignore[attr-defined]
    _provenance(world, keys, head)
    receipt = world.send("deployment_protection_rule", _requested(head, "carol"))
    assert receipt.status == 202, receipt.reason
    assert receipt.reason == "deployment pending: waits for an operator's approval"
    assert world.actions.reviews == []
    [pending] = world.store.pending()
    assert (pending.deployment, pending.commit, pending.deployer) == ("42", head, "github:carol")
    # Nothing changes until the operator approves: re-evaluation keeps it pending.
    mirrors = world.receiver.handler.mirrors  # type: ignore[union-attr]
    reevaluate_pending(mirrors, world.store, world.actions, NOW, world.ledger, "")
    assert world.actions.reviews == []
    _operator_approves(world, keys, head)
    reevaluate_pending(mirrors, world.store, world.actions, NOW, world.ledger, "")
    [review] = world.actions.reviews
    assert review.approved
    assert review.callback == CALLBACK
    assert review.github_body() == {
        "environment_name": "production",
        "state": "approved",
        "comment": review.comment,
    }
    assert world.store.pending() == []
    reevaluate_pending(mirrors, world.store, world.actions, NOW, world.ledger, "")
    assert len(world.actions.reviews) == 1  # answered once
    decisions = [r.decision["verdict"] for r in _deploy_records(world) if r.decision]
    assert decisions == ["deny", "deny", "allow"]
    assert {r.door for r in _deploy_records(world)} == {"forge-deployment"}


def test_the_forge_approver_of_the_release_may_not_deploy_it(world: World, keys: Keys) -> None:
    head = world.head  # type: ignore[attr-defined]
    _provenance(world, keys, head)
    _operator_approves(world, keys, head)
    world.send("deployment_protection_rule", _requested(head, "bob"))
    [review] = world.actions.reviews
    assert not review.approved
    assert "DEPLOYER_IS_APPROVER" in review.comment
    assert world.store.pending() == []


def test_a_deployment_without_provenance_is_rejected_naming_it(world: World, keys: Keys) -> None:
    head = world.head  # type: ignore[attr-defined]
    world.send("deployment_protection_rule", _requested(head, "carol", artifact=""))
    [review] = world.actions.reviews
    assert not review.approved
    assert "NO_PROVENANCE" in review.comment
    assert review.github_body()["state"] == "rejected"


def test_a_deployer_the_policy_does_not_know_is_rejected(world: World, keys: Keys) -> None:
    head = world.head  # type: ignore[attr-defined]
    _provenance(world, keys, head)
    _operator_approves(world, keys, head)
    world.send("deployment_protection_rule", _requested(head, "mallory"))
    [review] = world.actions.reviews
    assert not review.approved
    assert "UNAUTHORIZED_DEPLOYER" in review.comment or "UNKNOWN" in review.comment


def test_a_commit_the_mirror_lacks_is_rejected(world: World) -> None:
    world.send("deployment_protection_rule", _requested("f" * 40, "carol"))
    [review] = world.actions.reviews
    assert not review.approved
    assert "unknown commit" in review.comment
