"""Issue 15, items 1-3, 8 and 12, as an attacker tries them: real pushes through the hook.

Each test lands reviewed work the honest way first, then tries the attack, and asserts the
deny, its finding and that the server's ref did not move (ADR 0011).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.integration.git._harness import REPOSITORY, Keys, Server, policy_text, push
from tests.support.gitrepo import ALICE, BOB, CAROL, ERIN, GitRepo
from twokey.doors import install_hook

EVIDENCE = "refs/twokey/*:refs/twokey/*"


def _land(server: Server, clone: GitRepo, files: dict[str, str], message: str) -> str:
    """Alice's change, approved by Bob, pushed to main the honest way; returns the commit."""
    head = clone.commit(files, message, ALICE)
    server.approve(clone, "bob")
    landed = push(clone, "main", EVIDENCE)
    assert landed.accepted, landed.output
    return head


def _merge_commit(clone: GitRepo, first: str, second: str, message: str) -> str:
    """A merge of ``first`` and ``second`` with their clean merge tree, made by hand."""
    tree = clone.git("merge-tree", "--write-tree", first, second).splitlines()[0]
    merge = clone.git("commit-tree", tree, "-p", first, "-p", second, "-m", message, person=ALICE)
    clone.git("update-ref", "refs/heads/main", merge)
    return merge


def test_merge_replay_of_an_old_approved_head_is_refused(server: Server) -> None:
    # X was approved and landed. Y is unreviewed; a merge of Y with X again brings Y.
    alice = server.clone(ALICE)
    x = _land(server, alice, {"app.py": "reviewed\n"}, "Reviewed change")
    y = alice.commit({"evil.py": "backdoor\n"}, "Unreviewed", ALICE)
    before = server.head()
    merge = _merge_commit(alice, y, x, "Merge reviewed work")
    result = push(alice, "main", EVIDENCE)
    assert not result.accepted
    assert set(result.findings()) == {"INSUFFICIENT_APPROVALS"}
    assert x[:7] in result.findings("!")["EVIDENCE_MISMATCH"]
    assert server.head() == before != merge


def test_merge_of_an_unlanded_approved_head_with_unreviewed_work_is_refused(
    server: Server,
) -> None:
    # X is approved (on a branch); the merge's first parent Y is unreviewed.
    alice = server.clone(ALICE)
    base = alice.rev_parse("HEAD")
    alice.git("checkout", "-q", "-b", "feature")
    x = alice.commit({"feature.py": "ok\n"}, "Feature", ALICE)
    server.approve(alice, "bob", "feature")
    assert push(alice, "feature", EVIDENCE).accepted
    alice.git("checkout", "-q", "main")
    y = alice.commit({"evil.py": "backdoor\n"}, "Unreviewed", ALICE)
    _merge_commit(alice, y, x, "Merge feature")
    result = push(alice, "main", EVIDENCE)
    assert not result.accepted
    assert set(result.findings()) == {"INSUFFICIENT_APPROVALS"}
    assert x[:7] in result.findings("!")["STALE_APPROVAL"]
    assert server.head() == base


def test_merge_replay_cannot_replace_the_policy(server: Server) -> None:
    alice = server.clone(ALICE)
    x = _land(server, alice, {"app.py": "reviewed\n"}, "Reviewed change")
    text = (alice.path / ".twokey/policy.yml").read_text()
    y = alice.commit(
        {".twokey/policy.yml": text.replace("approvals: 1\n", "approvals: 0\n")},
        "Relax",
        ALICE,
    )
    before = server.head()
    _merge_commit(alice, y, x, "Merge reviewed work")
    result = push(alice, "main", EVIDENCE)
    assert not result.accepted
    assert {"INSUFFICIENT_APPROVALS", "POLICY_CHANGE_UNAPPROVED"} <= set(result.findings())
    assert server.head() == before


def test_revert_of_a_reviewed_fix_is_refused(server: Server) -> None:
    # The vulnerable tree was approved once; reverting the later fix restores it exactly.
    alice = server.clone(ALICE)
    _land(server, alice, {"auth.py": "check = False\n"}, "Auth, first version")
    _land(server, alice, {"auth.py": "check = True\n"}, "Security fix")
    before = server.head()
    alice.git("revert", "--no-edit", "HEAD", person=ALICE)
    result = push(alice, "main", EVIDENCE)
    assert not result.accepted
    assert set(result.findings()) == {"INSUFFICIENT_APPROVALS"}
    assert "already on refs/heads/main" in result.findings("!")["EVIDENCE_MISMATCH"]
    assert server.head() == before


def test_checking_an_old_file_back_out_is_refused(server: Server) -> None:
    alice = server.clone(ALICE)
    first = _land(server, alice, {"auth.py": "check = False\n"}, "Auth, first version")
    _land(server, alice, {"auth.py": "check = True\n"}, "Security fix")
    before = server.head()
    alice.git("checkout", first, "--", "auth.py")
    alice.git("commit", "-q", "-m", "Tidy", person=ALICE)
    result = push(alice, "main", EVIDENCE)
    assert not result.accepted
    assert set(result.findings()) == {"INSUFFICIENT_APPROVALS"}
    assert server.head() == before


def test_squash_landing_on_a_moved_main_is_still_covered(server: Server) -> None:
    # What must keep working: the approved feature lands as a squash on today's main.
    alice = server.clone(ALICE)
    alice.git("checkout", "-q", "-b", "feature")
    alice.commit({"feature.py": "ok\n"}, "Feature", ALICE)
    server.approve(alice, "bob", "feature")
    assert push(alice, "feature", EVIDENCE).accepted
    alice.git("checkout", "-q", "main")
    alice.git("merge", "-q", "--squash", "feature")
    alice.git("commit", "-q", "-m", "Feature (squashed)", person=ALICE)
    result = push(alice, "main")
    assert result.accepted, result.output


# --- laundering through a weaker ref (item 3) -------------------------------------------------


def _policy(keys: Keys, extra_branches: str) -> str:
    text = policy_text(keys.public())
    return text.replace("tags:\n", f"{extra_branches}tags:\n", 1)


def _server_with(tmp_path: Path, keys: Keys, policy: str, tags: str = "") -> Server:
    bare = GitRepo.init(tmp_path / "server.git", bare=True)
    seed = bare.clone(tmp_path / "seed", ERIN)
    if tags:
        policy = policy.replace('  "v*": {approvals: 1, approvers: [reviewers]}\n', tags)
    seed.commit({".twokey/policy.yml": policy, "README.md": "shop\n"}, "Policy", ERIN)
    seed.git("push", "-q", "origin", "main")
    shutil.rmtree(seed.path)
    install_hook(bare.path, repository=REPOSITORY)
    return Server(tmp_path, bare, keys)


@pytest.fixture
def sandboxed(tmp_path: Path, keys: Keys) -> Server:
    """The test policy plus ``sandbox/**`` with no approvals and ``release/**`` like main."""
    extra = (
        "  sandbox/**: {approvals: 0}\n"
        "  release/**:\n"
        "    approvals: 1\n"
        "    approvers: [reviewers, admins]\n"
        "    owners:\n"
        '      "deploy/**": {approvals: 1, approvers: [carol]}\n'
    )
    return _server_with(tmp_path, keys, _policy(keys, extra))


def test_a_commit_parked_on_a_weaker_ref_keeps_its_author(sandboxed: Server) -> None:
    # Bob writes X, parks it on sandbox/** (no approvals needed), then approves it for main.
    bob = sandboxed.clone(BOB)
    before = sandboxed.head()
    bob.commit({"app.py": "bob's\n"}, "Bob's change", BOB)
    assert push(bob, "HEAD:refs/heads/sandbox/bob").accepted
    sandboxed.approve(bob, "bob")
    result = push(bob, "main", EVIDENCE)
    assert not result.accepted
    assert "bob" in result.findings("!")["SELF_APPROVAL"]
    assert set(result.findings()) == {"INSUFFICIENT_APPROVALS"}
    assert sandboxed.head() == before


def test_a_commit_on_an_equally_strict_ref_counts_as_reviewed(sandboxed: Server) -> None:
    # release/** is as strict as main: Carol's reviewed work there needs no second review by
    # a non-author on main, only an approval of what lands (by anyone eligible).
    alice = sandboxed.clone(ALICE)
    alice.git("checkout", "-q", "-b", "release/1")
    alice.commit({"fix.py": "ok\n"}, "Fix", ALICE)
    sandboxed.approve(alice, "bob", "release/1", ref="refs/heads/release/1")
    assert push(alice, "release/1", EVIDENCE).accepted
    alice.git("checkout", "-q", "main")
    alice.git("merge", "-q", "--ff-only", "release/1")
    sandboxed.approve(alice, "carol")
    result = push(alice, "main", EVIDENCE)
    assert result.accepted, result.output


# --- tags (items 8 and 12) ----------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        ["tag", "v9", "HEAD^{tree}"],
        ["tag", "-a", "v9", "-m", "tree", "HEAD^{tree}"],
        ["tag", "-a", "v9", "-m", "blob", "HEAD:README.md"],
    ],
    ids=["lightweight-tree", "annotated-tree", "annotated-blob"],
)
def test_a_protected_tag_must_name_a_commit(server: Server, make: list[str]) -> None:
    alice = server.clone(ALICE)
    alice.git(*make, person=ALICE)
    server.approve(alice, "carol", "HEAD", ref="refs/tags/v9")
    result = push(alice, "refs/tags/v9", EVIDENCE)
    assert not result.accepted
    assert set(result.findings()) == {"NOT_A_COMMIT"}
    assert "refs/tags/v9 names a " in result.findings()["NOT_A_COMMIT"]
    assert server.head("refs/tags/v9") == ""


def test_a_protected_tag_never_moves(server: Server) -> None:
    alice = server.clone(ALICE)
    alice.git("tag", "-a", "v1.0", "-m", "release", person=ALICE)
    server.approve(alice, "carol", "v1.0", ref="refs/tags/v1.0")
    assert push(alice, "refs/tags/v1.0", EVIDENCE).accepted
    released = server.head("refs/tags/v1.0")
    alice.commit({"app.py": "next\n"}, "Next", ALICE)
    alice.git("tag", "-f", "-a", "v1.0", "-m", "moved", person=ALICE)
    server.approve(alice, "carol", "v1.0", ref="refs/tags/v1.0")
    server.approve(alice, "bob", "v1.0", ref="refs/tags/v1.0")
    result = push(alice, "+refs/tags/v1.0", EVIDENCE)
    assert not result.accepted
    assert "TAG_MOVED" in result.findings()
    assert server.head("refs/tags/v1.0") == released


def test_a_tag_rule_may_allow_moving(tmp_path: Path, keys: Keys) -> None:
    moving = '  "v*": {approvals: 1, approvers: [reviewers], move: true}\n'
    server = _server_with(tmp_path, keys, policy_text(keys.public()), tags=moving)
    alice = server.clone(ALICE)
    alice.git("tag", "v1", person=ALICE)
    server.approve(alice, "carol", "v1", ref="refs/tags/v1")
    assert push(alice, "refs/tags/v1", EVIDENCE).accepted
    alice.commit({"app.py": "next\n"}, "Next", ALICE)
    alice.git("tag", "-f", "v1", person=ALICE)
    server.approve(alice, "carol", "v1", ref="refs/tags/v1")
    result = push(alice, "+refs/tags/v1", EVIDENCE)
    assert result.accepted, result.output


def test_a_tag_of_unreviewed_commits_excludes_their_author(server: Server) -> None:
    # The tag brings Carol's commit that is on no protected branch: Carol may not approve it.
    carol = server.clone(CAROL)
    carol.commit({"app.py": "carol's\n"}, "Carol's change", CAROL)
    carol.git("tag", "v2", person=CAROL)
    server.approve(carol, "carol", "v2", ref="refs/tags/v2")
    result = push(carol, "refs/tags/v2", EVIDENCE)
    assert not result.accepted
    assert "carol" in result.findings("!")["SELF_APPROVAL"]
    server.approve(carol, "bob", "v2", ref="refs/tags/v2")
    assert push(carol, "refs/tags/v2", EVIDENCE).accepted


def test_a_squash_does_not_drop_the_author_of_what_lands(server: Server) -> None:
    # Found by the property test: Bob approves his own branch, Alice squashes it onto main.
    # The squash commit is Alice's, but Bob wrote what lands (ADR 0011: the commits the
    # covering landing brings count among the authors).
    bob = server.clone(BOB)
    bob.git("checkout", "-q", "-b", "feature")
    bob.commit({"feature.py": "bob's\n"}, "Bob's feature", BOB)
    server.approve(bob, "bob", "feature")
    assert push(bob, "feature", EVIDENCE).accepted
    alice = server.clone(ALICE)
    before = server.head()
    alice.git("fetch", "-q", "origin", "feature")
    alice.git("merge", "-q", "--squash", "FETCH_HEAD")
    alice.git("commit", "-q", "-m", "Feature (squashed)", person=ALICE)
    result = push(alice, "main")
    assert not result.accepted
    assert "bob" in result.findings("!")["SELF_APPROVAL"]
    assert server.head() == before


def test_a_tag_of_reviewed_main_history_is_a_release_act(server: Server) -> None:
    # ADR 0011: main's rule is at least as strict as the tag's (approvers aside), so a tag of
    # reviewed main history brings no commits; Bob, who wrote it, may approve its release.
    bob = server.clone(BOB)
    bob.commit({"app.py": "bob's\n"}, "Bob's change", BOB)
    server.approve(bob, "carol")
    assert push(bob, "main", EVIDENCE).accepted
    bob.git("tag", "-a", "v3", "-m", "release", person=BOB)
    server.approve(bob, "bob", "v3", ref="refs/tags/v3")
    result = push(bob, "refs/tags/v3", EVIDENCE)
    assert result.accepted, result.output


def test_file_names_that_look_like_log_records_cannot_hide_a_policy_change(
    server: Server,
) -> None:
    # git log -z printed paths raw: a file named "\x01" + 40 hex digits, then nine more names,
    # started a forged commit record that swallowed the real one's later paths (the policy).
    alice = server.clone(ALICE)
    text = (alice.path / ".twokey/policy.yml").read_text()
    forged = {"\x01 ": "x\n", "\x01" + "a" * 40: "x\n"}
    forged |= {f"\x01b{i}": "x\n" for i in range(9)}
    relaxed = text.replace("approvals: 1\n", "approvals: 0\n")
    alice.commit({**forged, ".twokey/policy.yml": relaxed}, "Relax, quietly", ALICE)
    server.approve(alice, "bob")
    before = server.head()
    result = push(alice, "main", EVIDENCE)
    assert not result.accepted
    assert "POLICY_CHANGE_UNAPPROVED" in result.findings()
    assert server.head() == before
