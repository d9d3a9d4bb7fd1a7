"""Variants of known attacks on the hook, each a real push (ADR 0041's sweep).

The known classes are proven elsewhere (``test_attacks.py``, ``test_hook_scenarios.py``); these
are the variants no test tried yet: evidence made for another repository, ref or tree, a
revoked key, a co-author approving, a policy loosened in the very push it would let through,
a merge whose tree is the approved one, break-glass on a force-push or a deletion, and the
server's refs packed or pushed to through ``HEAD``. Each asserts the deny, its finding and
that the server's ref did not move.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.git._harness import (
    NOW,
    REPOSITORY,
    Keys,
    Pushed,
    Server,
    policy_text,
    push,
)
from tests.support.gitrepo import ALICE, BOB, ERIN, GitRepo
from twokey.doors import install_hook
from twokey.evidence import GitEvidenceStore, sign_approval

EVIDENCE = "refs/twokey/*:refs/twokey/*"
ERIN_GLASS = {"TWOKEY_PUSHER": "email:erin@example.com"}


def _signed(
    server: Server,
    clone: GitRepo,
    who: str = "bob",
    *,
    repository: str = REPOSITORY,
    ref: str = "refs/heads/main",
    tree: str = "",
) -> str:
    """``who``'s approval of HEAD as given (another repository, ref or tree), filed under HEAD."""
    commit = clone.rev_parse("HEAD")
    envelope = sign_approval(
        server.keys.signers[who],
        repository=repository,
        ref=ref,
        commit=commit,
        tree=tree or clone.rev_parse("HEAD^{tree}"),
        when=NOW,
    )
    return GitEvidenceStore(clone.path / ".git").put(envelope, commit)


def _refused(server: Server, clone: GitRepo, *refspecs: str) -> Pushed:
    """``git push refspecs``, asserted refused with main where it was."""
    before = server.head()
    result = push(clone, *refspecs)
    assert not result.accepted, result.output
    assert server.head() == before
    return result


def test_an_approval_for_another_repository_does_not_count(server: Server) -> None:
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    result = _refused(server, alice, "main", _signed(server, alice, repository="other/shop"))
    assert set(result.findings()) == {"INSUFFICIENT_APPROVALS"}
    assert "other/shop" in result.findings("!")["EVIDENCE_MISMATCH"]


def test_an_approval_for_another_ref_does_not_count(server: Server) -> None:
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    ref = _signed(server, alice, ref="refs/heads/release")
    result = _refused(server, alice, "main", ref)
    assert set(result.findings()) == {"INSUFFICIENT_APPROVALS"}
    assert "refs/heads/release" in result.findings("!")["EVIDENCE_MISMATCH"]


def test_an_approval_that_binds_the_commit_to_another_tree_does_not_count(
    server: Server,
) -> None:
    """bob's client signed the commit with the tree of what he read (a harmless look-alike)."""
    alice = server.clone(ALICE)
    harmless = alice.commit({"app.py": "harmless\n"}, "Harmless", ALICE)
    alice.git("reset", "-q", "--hard", "HEAD~1")
    alice.commit({"app.py": "evil\n"}, "Evil", ALICE)
    ref = _signed(server, alice, tree=alice.rev_parse(f"{harmless}^{{tree}}"))
    result = _refused(server, alice, "main", ref)
    assert set(result.findings()) == {"INSUFFICIENT_APPROVALS"}
    assert "SUBJECT_MISMATCH: approval claims tree" in result.findings("!")["MALFORMED_INPUT"]


def _server_with(root: Path, keys: Keys, text: str) -> Server:
    bare = GitRepo.init(root / "server.git", bare=True)
    seed = bare.clone(root / "seed", ERIN)
    seed.commit({".twokey/policy.yml": text}, "Add the twokey policy", ERIN)
    seed.git("push", "-q", "origin", "main")
    install_hook(bare.path, repository=REPOSITORY)
    return Server(root, bare, keys)


def test_an_approval_signed_by_a_revoked_key_does_not_count(tmp_path: Path, keys: Keys) -> None:
    bob = keys.public()["bob"]
    text = policy_text(keys.public()).replace(
        f'keys: ["{bob}"]', f'keys: [{{key: "{bob}", revoked: true}}]', 1
    )
    server = _server_with(tmp_path, keys, text)
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    result = _refused(server, alice, "main", server.approve(alice, "bob"))
    assert set(result.findings()) == {"INSUFFICIENT_APPROVALS"}
    assert "KEY_REVOKED" in result.findings("!")


def test_a_co_author_cannot_approve_the_commit_they_co_wrote(server: Server) -> None:
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Pair work", ALICE, co_authors=(BOB,))
    result = _refused(server, alice, "main", server.approve(alice, "bob"))
    assert set(result.findings()) == {"INSUFFICIENT_APPROVALS"}
    assert "bob is a co-author" in result.findings("!")["SELF_APPROVAL"]


def test_a_policy_change_does_not_judge_the_push_that_brings_it(server: Server) -> None:
    """Both admins approve alice's policy that drops the tag rule; the same push creates a tag
    of an unreviewed commit on top. The tag is judged by the policy as it was before the push."""
    alice = server.clone(ALICE)
    text = policy_text(server.keys.public())
    loosened = text[: text.index("tags:")] + text[text.index("policy_changes:") :]
    alice.commit({".twokey/policy.yml": loosened}, "Drop the tag rule", ALICE)
    server.approve(alice, "erin")
    server.approve(alice, "frank")
    unreviewed = alice.commit({"app.py": "unreviewed\n"}, "Unreviewed", ALICE)
    alice.git("tag", "v9", unreviewed)
    result = _refused(server, alice, "HEAD~1:refs/heads/main", "v9", EVIDENCE)
    assert "ALLOW: refs/heads/main" in result.output  # the policy change itself is approved
    assert "refs/tags/v9" in result.findings()["INSUFFICIENT_APPROVALS"]
    assert "(tags.refs/tags/v*.approvals)" in result.output
    assert server.bare.git("tag", "-l") == ""


def test_a_merge_with_the_approved_tree_still_brings_its_second_parent(server: Server) -> None:
    """H is approved by bob; the merge of H with bob's own commit X gives H's tree again (X
    changes what H changes, the same way), but X lands too, so bob is one of its authors."""
    alice = server.clone(ALICE)
    base = alice.rev_parse("HEAD")
    head = alice.commit({"app.py": "v2\n"}, "H", ALICE)
    approval = server.approve(alice, "bob")
    alice.git("checkout", "-q", "-b", "x", base)
    mine = alice.commit({"app.py": "v2\n"}, "X", BOB)
    tree = alice.git("merge-tree", "--write-tree", head, mine).splitlines()[0]
    assert tree == alice.rev_parse(f"{head}^{{tree}}")
    merge = alice.git("commit-tree", tree, "-p", head, "-p", mine, "-m", "Merge", person=ALICE)
    result = _refused(server, alice, f"{merge}:refs/heads/main", approval)
    assert set(result.findings()) == {"INSUFFICIENT_APPROVALS"}
    assert "bob is an author" in result.findings("!")["SELF_APPROVAL"]


@pytest.mark.parametrize("how", ["force-push", "deletion"])
def test_break_glass_never_excuses_a_force_push_or_a_deletion(server: Server, how: str) -> None:
    erin = server.clone(ERIN)
    if how == "force-push":
        erin.git("commit", "-q", "--amend", "-m", "History rewritten", person=ERIN)
        spec, code = "+main", "FORCE_PUSH"
    else:
        spec, code = ":main", "REF_DELETION"
    before = server.head()
    result = push(erin, spec, env=ERIN_GLASS, options=("twokey.break-glass=prod is down",))
    assert not result.accepted, result.output
    assert code in result.findings()
    assert server.head() == before


def test_packed_refs_and_a_push_to_head_are_judged_as_main(server: Server) -> None:
    server.bare.git("pack-refs", "--all")
    server.bare.git("symbolic-ref", "refs/heads/current", "refs/heads/main")
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Unreviewed", ALICE)
    for target in ("HEAD:refs/heads/main", "HEAD:refs/heads/current"):
        result = _refused(server, alice, target)
        assert "refs/heads/main" in result.findings()["INSUFFICIENT_APPROVALS"]
    named_head = push(alice, "HEAD:HEAD")  # a branch literally named HEAD: not main
    assert server.head() != alice.rev_parse("HEAD")
    assert named_head.accepted == (
        server.bare.git("rev-parse", "-q", "--verify", "refs/heads/HEAD", check=False) != ""
    )
