"""The issue's scenarios, each a real push to a bare repository with the hook installed."""

from __future__ import annotations

from tests.integration.git._harness import BOB_NOREPLY, Server, push
from tests.support.gitrepo import ALICE, BOB, ERIN, FRANK

EVIDENCE = "refs/twokey/*:refs/twokey/*"


def test_direct_push_of_unapproved_commits_is_refused(server: Server) -> None:
    alice = server.clone(ALICE)
    before = server.head()
    alice.commit({"app.py": "print('hi')\n"}, "Add app", ALICE)
    result = push(alice, "main")
    assert not result.accepted
    assert set(result.findings()) == {"INSUFFICIENT_APPROVALS"}
    assert "refs/heads/main" in result.findings()["INSUFFICIENT_APPROVALS"]
    assert "to satisfy: " in result.output
    assert "pre-receive hook declined" in result.output
    assert server.head() == before


def test_approved_push_lands(server: Server) -> None:
    alice = server.clone(ALICE)
    head = alice.commit({"app.py": "print('hi')\n"}, "Add app", ALICE)
    server.approve(alice, "bob")
    result = push(alice, "main", EVIDENCE)
    assert result.accepted, result.output
    assert server.head() == head


def test_force_push_is_refused_even_when_approved(server: Server) -> None:
    alice = server.clone(ALICE)
    alice.commit({"app.py": "v1\n"}, "v1", ALICE)
    server.approve(alice, "bob")
    assert push(alice, "main", EVIDENCE).accepted
    alice.git("reset", "-q", "--hard", "HEAD~1")
    alice.commit({"app.py": "v2\n"}, "v2", ALICE)
    server.approve(alice, "bob")
    result = push(alice, "+main", EVIDENCE)
    assert not result.accepted
    assert set(result.findings()) == {"FORCE_PUSH"}


def test_branch_deletion_is_refused(server: Server) -> None:
    alice = server.clone(ALICE)
    result = push(alice, ":main")
    assert not result.accepted
    assert set(result.findings()) == {"REF_DELETION"}
    assert "refs/heads/main" in result.findings()["REF_DELETION"]


def test_tag_creation_on_a_protected_pattern_needs_approval(server: Server) -> None:
    alice = server.clone(ALICE)
    alice.git("tag", "-a", "v1.0", "-m", "release", person=ALICE)
    result = push(alice, "refs/tags/v1.0")
    assert not result.accepted
    assert set(result.findings()) == {"INSUFFICIENT_APPROVALS"}
    assert "refs/tags/v1.0" in result.findings()["INSUFFICIENT_APPROVALS"]
    server.approve(alice, "carol", "v1.0", ref="refs/tags/v1.0")
    assert push(alice, "refs/tags/v1.0", EVIDENCE).accepted


def test_self_approval_does_not_count(server: Server) -> None:
    bob = server.clone(BOB)
    bob.commit({"app.py": "x\n"}, "Bob's change", BOB)
    server.approve(bob, "bob")
    result = push(bob, "main", EVIDENCE)
    assert not result.accepted
    assert set(result.findings()) == {"INSUFFICIENT_APPROVALS"}
    assert "bob" in result.findings("!")["SELF_APPROVAL"]


def test_approval_by_an_alias_of_the_author_does_not_count(server: Server) -> None:
    # Erin (an admin approver) authors with her address; the approval is made with her key,
    # another alias of the same person: one person, excluded (invariant 3).
    erin = server.clone(ERIN)
    erin.commit({"app.py": "x\n"}, "Erin's change", ERIN)
    server.approve(erin, "erin")
    result = push(erin, "main", EVIDENCE)
    assert "erin" in result.findings("!")["SELF_APPROVAL"]
    assert not result.accepted


def test_noreply_alias_of_the_author_is_the_same_person(server: Server) -> None:
    # Bob commits with his forge address and approves with his key: one person (invariant 3).
    bob = server.clone(BOB_NOREPLY, "bob-noreply")
    bob.commit({"app.py": "x\n"}, "From the forge address", BOB_NOREPLY)
    server.approve(bob, "bob")
    result = push(bob, "main", EVIDENCE)
    assert not result.accepted
    assert "bob" in result.findings("!")["SELF_APPROVAL"]
    assert set(result.findings()) == {"INSUFFICIENT_APPROVALS"}


def test_approval_from_outside_the_approver_groups_does_not_count(server: Server) -> None:
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    server.approve(alice, "dave")
    result = push(alice, "main", EVIDENCE)
    assert not result.accepted
    assert "dave" in result.findings("!")["NOT_AN_APPROVER"]
    assert set(result.findings()) == {"INSUFFICIENT_APPROVALS"}


def test_stale_approval_after_a_new_commit(server: Server) -> None:
    alice = server.clone(ALICE)
    first = alice.commit({"app.py": "1\n"}, "One", ALICE)
    server.approve(alice, "bob")
    alice.commit({"app.py": "2\n"}, "Two", ALICE)
    result = push(alice, "main", EVIDENCE)
    assert not result.accepted
    assert first[:7] in result.findings("!")["STALE_APPROVAL"]
    assert set(result.findings()) == {"INSUFFICIENT_APPROVALS"}


def test_squash_merge_of_approved_content_is_allowed(server: Server) -> None:
    alice = server.clone(ALICE)
    alice.git("checkout", "-q", "-b", "feature")
    alice.commit({"app.py": "1\n"}, "One", ALICE)
    alice.commit({"app.py": "2\n", "lib.py": "x\n"}, "Two", ALICE)
    server.approve(alice, "bob", "feature")
    assert push(alice, "feature", EVIDENCE).accepted
    alice.git("checkout", "-q", "main")
    alice.git("merge", "-q", "--squash", "feature")
    alice.git("commit", "-q", "-m", "Feature (squashed)", person=ALICE)
    result = push(alice, "main")
    assert result.accepted, result.output


def test_rebase_of_approved_content_is_allowed(server: Server) -> None:
    alice = server.clone(ALICE)
    alice.commit({"app.py": "1\n"}, "One", ALICE)
    server.approve(alice, "bob")
    # The reviewed commit is on the server (as a forge's PR branch is): an approval binds to
    # what landing that commit gives, which only a repository holding it can tell (ADR 0011).
    assert push(alice, "HEAD:refs/heads/review/one", EVIDENCE).accepted
    alice.git(
        "commit", "-q", "--amend", "-m", "One (reworded)", person=ALICE, when="2026-11-30T10:00:00Z"
    )
    result = push(alice, "main")
    assert result.accepted, result.output


def test_clean_merge_commit_of_an_approved_branch_is_allowed(server: Server) -> None:
    alice = server.clone(ALICE)
    alice.git("checkout", "-q", "-b", "feature")
    alice.commit({"app.py": "1\n"}, "Feature", ALICE)
    server.approve(alice, "bob", "feature")
    alice.git("checkout", "-q", "main")
    alice.git("merge", "-q", "--no-ff", "-m", "Merge feature", "feature", person=ALICE)
    result = push(alice, "main", EVIDENCE)
    assert result.accepted, result.output


def test_merge_commit_that_is_not_a_clean_merge_is_refused(server: Server) -> None:
    alice = server.clone(ALICE)
    alice.git("checkout", "-q", "-b", "feature")
    alice.commit({"app.py": "1\n"}, "Feature", ALICE)
    server.approve(alice, "bob", "feature")
    alice.git("checkout", "-q", "main")
    alice.git("merge", "-q", "--no-ff", "--no-commit", "feature", person=ALICE)
    alice.write("backdoor.py", "evil\n")
    alice.git("add", "backdoor.py")
    alice.git("commit", "-q", "-m", "Merge feature", person=ALICE)
    merge = alice.rev_parse("HEAD")
    result = push(alice, "main", EVIDENCE)
    assert not result.accepted
    assert merge[:7] in result.findings()["UNCLEAN_MERGE"]


def test_path_owner_approval_missing(server: Server) -> None:
    bob = server.clone(BOB)
    bob.commit({"deploy/prod.yml": "replicas: 3\n"}, "Scale up", BOB)
    server.approve(bob, "erin")
    result = push(bob, "main", EVIDENCE)
    assert not result.accepted
    assert set(result.findings()) == {"OWNER_APPROVAL_MISSING"}
    assert "deploy/prod.yml" in result.findings()["OWNER_APPROVAL_MISSING"]
    server.approve(bob, "carol")
    assert push(bob, "main", EVIDENCE).accepted


def test_policy_change_needs_two_admins(server: Server) -> None:
    erin = server.clone(ERIN)
    text = (erin.path / ".twokey/policy.yml").read_text()
    erin.commit(
        {
            ".twokey/policy.yml": text.replace(
                "approvals: 1\n    approvers: [reviewers, admins]",
                "approvals: 0\n    approvers: [reviewers, admins]",
            )
        },
        "Lower the bar",
        ERIN,
    )
    server.approve(erin, "erin")
    server.approve(erin, "bob")  # satisfies the branch rule, not the policy rule
    refused = push(erin, "main", EVIDENCE)
    assert not refused.accepted
    assert set(refused.findings()) == {"POLICY_CHANGE_UNAPPROVED"}
    assert ".twokey/policy.yml" in refused.findings()["POLICY_CHANGE_UNAPPROVED"]
    server.approve(erin, "frank")
    accepted = push(erin, "main", EVIDENCE)
    assert accepted.accepted, accepted.output


def test_unknown_signer_does_not_count(server: Server) -> None:
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    server.approve(alice, "stranger")
    result = push(alice, "main", EVIDENCE)
    assert not result.accepted
    assert "refs/twokey/evidence/" in result.findings("!")["UNKNOWN_SIGNER"]
    assert set(result.findings()) == {"INSUFFICIENT_APPROVALS"}


def test_unprotected_branch_is_allowed(server: Server) -> None:
    alice = server.clone(ALICE)
    alice.git("checkout", "-q", "-b", "topic")
    alice.commit({"app.py": "x\n"}, "WIP", ALICE)
    result = push(alice, "topic")
    assert result.accepted
    assert "refs/heads/topic" in result.findings("·")["UNPROTECTED_REF"]


def test_one_denied_update_rejects_the_whole_push(server: Server) -> None:
    alice = server.clone(ALICE)
    alice.git("checkout", "-q", "-b", "topic")
    alice.commit({"app.py": "x\n"}, "WIP", ALICE)
    alice.git("checkout", "-q", "main")
    alice.commit({"app.py": "y\n"}, "Unapproved", ALICE)
    result = push(alice, "topic", "main")
    assert not result.accepted
    assert server.head("refs/heads/topic") == ""
    assert "1 of 2 ref update(s) denied" in result.output


def test_admin_pair_walkthrough_frank_approves_erins_commit(server: Server) -> None:
    frank = server.clone(FRANK)
    frank.commit({"docs.md": "hello\n"}, "Docs", FRANK)
    server.approve(frank, "erin")
    assert push(frank, "main", EVIDENCE).accepted
