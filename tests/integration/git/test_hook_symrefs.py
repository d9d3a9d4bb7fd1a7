"""A push through a server-side symbolic ref is judged as the ref it moves (issue 15 item 9)."""

from __future__ import annotations

import pytest

from tests.integration.git._harness import Server, push
from tests.support.gitrepo import ALICE

ALIASES = {
    "alias": {"refs/heads/master": "refs/heads/main"},
    "chain": {"refs/heads/a": "refs/heads/b", "refs/heads/b": "refs/heads/main"},
}


@pytest.mark.parametrize("links", ALIASES.values(), ids=ALIASES.keys())
def test_a_push_to_a_symref_of_main_is_judged_as_main(
    server: Server, links: dict[str, str]
) -> None:
    for name, target in links.items():
        server.bare.git("symbolic-ref", name, target)
    pushed_as = next(iter(links)).removeprefix("refs/heads/")
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Unreviewed", ALICE)
    before = server.head()
    refused = push(alice, f"HEAD:{pushed_as}")
    assert not refused.accepted, refused.output
    assert "refs/heads/main" in refused.findings()["INSUFFICIENT_APPROVALS"]
    assert server.head() == before
    approved = push(alice, f"HEAD:{pushed_as}", server.approve(alice, "bob"))
    assert approved.accepted, approved.output
    assert server.head() == alice.rev_parse("HEAD")


def test_a_dangling_symref_to_a_protected_ref_is_judged_as_that_ref(server: Server) -> None:
    server.bare.git("symbolic-ref", "refs/heads/next", "refs/tags/v9")
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Unreviewed", ALICE)
    refused = push(alice, "HEAD:refs/heads/next")
    assert not refused.accepted, refused.output
    assert "refs/tags/v9" in refused.findings()["INSUFFICIENT_APPROVALS"]
    assert server.head("refs/tags/v9") == ""


def test_a_symref_into_the_evidence_namespace_is_evidence(server: Server) -> None:
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    ref = server.approve(alice, "bob")
    assert push(alice, ref).accepted
    server.bare.git("symbolic-ref", "refs/heads/ev", ref)
    moved = push(alice, "+HEAD:refs/heads/ev")
    assert not moved.accepted
    assert "evidence is append-only" in moved.findings()["FORCE_PUSH"]


def test_a_default_branch_named_through_a_symref_is_still_the_policy_branch(
    server: Server,
) -> None:
    server.bare.git("symbolic-ref", "refs/heads/master", "refs/heads/main")
    server.bare.git("symbolic-ref", "HEAD", "refs/heads/master")
    alice = server.clone(ALICE)
    alice.git("checkout", "-q", "main")
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    assert push(alice, "main", server.approve(alice, "bob")).accepted
    weaker = (
        (alice.path / ".twokey" / "policy.yml").read_text().replace("approvals: 1", "approvals: 0")
    )
    alice.commit({".twokey/policy.yml": weaker}, "Relax", ALICE)
    result = push(alice, "HEAD:master", server.approve(alice, "bob"))
    assert not result.accepted
    assert "POLICY_CHANGE_UNAPPROVED" in result.findings()


def test_a_symref_out_of_refs_denies_with_the_reason(server: Server) -> None:
    (server.bare.path / "refs" / "heads" / "odd").write_text("ref: HEAD\n")
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    result = push(alice, "HEAD:refs/heads/odd")
    assert not result.accepted
    assert "is a symbolic ref to 'HEAD', not to a ref" in result.findings()["INTERNAL_ERROR"]
