"""Pull requests judged from forge reviews, over a real bare mirror, SQLite or PostgreSQL:
the status follows the exact head, and reviews that must not count never do."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.forge._world import ALICE, BOB, World, make_world
from tests.support.gitrepo import Person
from twokey.forge import STATUS_CONTEXT
from twokey.ledger import DecisionRecord, ForgeDeliveryRecord, open_ledger, parse_entry, read_record

MALLORY = Person("Mallory", "mallory@evil.example")


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path, f"sqlite://{tmp_path / 'ledger.db'}")


def _records(world: World) -> list[object]:
    with open_ledger(world.ledger) as ledger:
        return [read_record(parse_entry(data)) for _, data in ledger.entries()]


def test_an_approval_by_a_reviewer_for_the_exact_head_passes(world: World) -> None:
    head = world.push_head({"app.py": "v2\n"}, ALICE)
    assert world.pull(head, "opened").status == 202
    assert (world.last.state, world.last.commit) == ("failure", head)
    assert "INSUFFICIENT_APPROVALS" in world.last.description
    receipt = world.review(head, "bob")
    assert receipt.status == 202, receipt.reason
    status = world.last
    assert (status.state, status.context, status.commit) == ("success", STATUS_CONTEXT, head)
    assert status.target_url == "https://twokey.example/changes/github/octo/shop/7"
    assert status.github_body()["context"] == "twokey/separation-of-duties"
    # Every delivery, then the decision it led to, is in the ledger (in that order).
    kinds = [type(r).__name__ for r in _records(world)]
    assert kinds == [
        "ForgeDeliveryRecord",
        "DecisionRecord",
        "ForgeDeliveryRecord",
        "DecisionRecord",
    ]
    decision = _records(world)[-1]
    assert isinstance(decision, DecisionRecord)
    assert decision.door == "forge-pull-request"
    assert decision.decision["verdict"] == "allow"
    assert any(e.startswith("forge:github:") for e in decision.evidence)


def test_an_approval_of_an_older_head_is_stale(world: World) -> None:
    first = world.push_head({"app.py": "v2\n"}, ALICE)
    world.pull(first, "opened")
    world.review(first, "bob")
    assert world.last.state == "success"
    second = world.push_head({"app.py": "v3 with more\n"}, ALICE)
    world.pull(second)
    assert (world.last.state, world.last.commit) == ("failure", second)
    assert "INSUFFICIENT_APPROVALS" in world.last.description


@pytest.mark.parametrize(
    ("login", "kind", "author", "why"),
    [
        ("mallory", "User", "alice", "UNKNOWN_SIGNER"),  # a login the policy does not know
        ("renovate[bot]", "Bot", "alice", "SERVICE_APPROVAL"),  # an app, declared a service
        ("carol-bot", "Bot", "alice", "SERVICE_APPROVAL"),  # type Bot, whatever its name
        ("bob", "User", "bob", "SELF_APPROVAL"),  # the pull request's author (commits: alice)
    ],
    ids=["unknown-login", "app", "type-bot", "pr-author"],
)
def test_reviews_that_must_not_count_never_do(
    world: World, login: str, kind: str, author: str, why: str
) -> None:
    head = world.push_head({"app.py": "v2\n"}, ALICE)
    world.send("pull_request", _opened(world, head, author))
    world.review(head, login, kind=kind, author=author)
    assert world.last.state == "failure"
    decision = [r for r in _records(world) if isinstance(r, DecisionRecord)][-1]
    codes = {f["code"] for f in decision.decision["findings"]}
    assert "INSUFFICIENT_APPROVALS" in codes
    assert why in codes


def _opened(world: World, head: str, author: str) -> dict[str, object]:
    from tests.integration.forge._world import pull_payload  # noqa: PLC0415

    return pull_payload(world.number, head, "opened", author, author)


def test_the_last_pusher_never_approves(world: World) -> None:
    head = world.push_head({"app.py": "v2\n"}, ALICE)
    world.pull(head, "opened")
    # bob pushes onto alice's branch (a commit authored by alice): bob is the last pusher.
    second = world.push_head({"app.py": "v3\n"}, ALICE)
    world.pull(second, sender="bob")
    world.review(second, "bob")
    assert world.last.state == "failure"
    world.review(second, "carol", review_id=2)
    assert world.last.state == "success"


def test_a_commit_author_and_a_co_author_are_excluded(world: World) -> None:
    head = world.push_head({"app.py": "v2\n"}, ALICE, co_authors=(BOB,))
    world.pull(head, "opened")
    world.review(head, "bob")
    assert world.last.state == "failure"
    decision = [r for r in _records(world) if isinstance(r, DecisionRecord)][-1]
    excluded = {(e["who"], e["reason"]) for e in decision.decision["excluded"]}
    assert any(who == "bob" and "co-author" in why for who, why in excluded), excluded


def test_a_dismissed_review_withdraws_the_approval(world: World) -> None:
    head = world.push_head({"app.py": "v2\n"}, ALICE)
    world.pull(head, "opened")
    world.review(head, "bob", review_id=5)
    assert world.last.state == "success"
    world.review(head, "bob", "dismissed", review_id=5)
    assert world.last.state == "failure"


def test_changes_requested_after_an_approval_withdraws_it(world: World) -> None:
    head = world.push_head({"app.py": "v2\n"}, ALICE)
    world.pull(head, "opened")
    world.review(head, "carol", review_id=1)
    assert world.last.state == "success"
    world.review(head, "carol", "commented", review_id=2)
    assert world.last.state == "success"  # a comment changes nothing
    world.review(head, "carol", "changes_requested", review_id=3)
    assert world.last.state == "failure"


def test_the_policy_comes_from_the_base_never_the_head(world: World) -> None:
    policy = (world.root / "work/.twokey/policy.yml").read_text()
    loose = policy.replace("    approvals: 1\n    approvers: [reviewers]", "    approvals: 0")
    assert loose != policy
    head = world.push_head({".twokey/policy.yml": loose, "app.py": "v2\n"}, ALICE)
    world.pull(head, "opened")
    assert world.last.state == "failure"
    decision = [r for r in _records(world) if isinstance(r, DecisionRecord)][-1]
    codes = {f["code"] for f in decision.decision["findings"]}
    # Under the head's policy main would need no approval: the base's still asks for one.
    assert {"INSUFFICIENT_APPROVALS", "POLICY_CHANGE_UNAPPROVED"} <= codes


def test_a_head_the_mirror_lacks_is_an_error_status(world: World) -> None:
    world.pull("e" * 40, "opened")
    assert world.last.state == "error"
    assert "not in the gateway's mirror" in world.last.description


def test_a_replayed_review_does_nothing(world: World) -> None:
    head = world.push_head({"app.py": "v2\n"}, ALICE)
    world.pull(head, "opened")
    from tests.integration.forge._world import review_payload  # noqa: PLC0415

    payload = review_payload(world.number, head, "bob", "approved", 1)
    assert world.send("pull_request_review", payload, "same").status == 202
    count = len(world.actions.statuses)
    assert world.send("pull_request_review", payload, "same").status == 409
    assert len(world.actions.statuses) == count
    forge = [r for r in _records(world) if isinstance(r, ForgeDeliveryRecord)]
    assert [r.delivery for r in forge].count("same") == 1


def test_the_same_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    world = make_world(tmp_path, pg_url)
    head = world.push_head({"app.py": "v2\n"}, ALICE)
    world.pull(head, "opened")
    world.review(head, "bob")
    assert world.last.state == "success"
    world.review(head, "bob", "dismissed")
    assert world.last.state == "failure"
