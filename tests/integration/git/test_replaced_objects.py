"""The gate judges the objects git stores, never a replacement or a graft (ADR 0041), for real.

git-replace(1) refs (``refs/replace/<id>``) are refs like any other: anyone who may push
creates them, and every git command honours them unless told not to. Grafts
(``GIT_GRAFT_FILE``, ``info/grafts``) rewrite a commit's parents the same way. A gate that
reads through them judges one commit, tree or policy while the ref moves to another.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.git._harness import REPOSITORY, Server, policy_text, push
from tests.support.commitgraph import forge_commit_graph
from tests.support.gitrepo import ALICE, BOB, GitRepo, git_env

EVIDENCE = "refs/twokey/*:refs/twokey/*"


def _look_alike(clone: GitRepo, of: str, files: dict[str, str]) -> str:
    """A commit with ``of``'s parents and message, and ``files`` changed in its tree."""
    clone.git("checkout", "-q", "--detach", of)
    changed = clone.commit(files, "look-alike", ALICE)
    parents = [a for p in clone.git("log", "-1", "--format=%P", of).split() for a in ("-p", p)]
    message = clone.git("log", "-1", "--format=%B", of)
    fake = clone.git("commit-tree", f"{changed}^{{tree}}", *parents, "-m", message, person=ALICE)
    clone.git("checkout", "-q", "main")
    return fake


def test_a_replace_ref_cannot_dress_an_unreviewed_commit_as_a_reviewed_one(
    server: Server,
) -> None:
    alice = server.clone(ALICE)
    base = alice.rev_parse("HEAD")
    harmless = alice.commit({"app.py": "harmless\n"}, "Harmless", ALICE)
    approval = server.approve(alice, "bob")
    alice.git("reset", "-q", "--hard", base)
    evil = alice.commit({"app.py": "evil\n"}, "Evil", ALICE)
    planted = push(alice, f"{harmless}:refs/replace/{evil}", approval)
    assert planted.accepted, planted.output  # an unprotected ref: anyone may create it
    result = push(alice, "main")
    assert not result.accepted, result.output
    assert set(result.findings()) == {"INSUFFICIENT_APPROVALS"}
    assert server.head() == base


def test_a_replace_ref_cannot_swap_the_trusted_policy(server: Server) -> None:
    alice = server.clone(ALICE)
    tip = alice.rev_parse("HEAD")
    relaxed = policy_text(server.keys.public(), main_approvals=0)
    fake = _look_alike(alice, tip, {".twokey/policy.yml": relaxed})
    assert push(alice, f"{fake}:refs/replace/{tip}").accepted
    alice.commit({"app.py": "evil\n"}, "Evil", ALICE)
    result = push(alice, "main")
    assert not result.accepted, result.output
    assert set(result.findings()) == {"INSUFFICIENT_APPROVALS"}
    assert server.head() == tip


def test_a_replaced_tree_cannot_hide_an_owned_path(server: Server) -> None:
    """``deploy/**`` needs carol; the new commit's tree is replaced by one without the change."""
    alice = server.clone(ALICE)
    tip = alice.rev_parse("HEAD")
    head = alice.commit({"deploy/prod.yml": "replicas: 0\n"}, "Scale down", ALICE)
    tree = alice.rev_parse(f"{head}^{{tree}}")
    approval = server.approve(alice, "bob")
    assert push(alice, f"{tip}^{{tree}}:refs/replace/{tree}").accepted
    result = push(alice, "main", approval)
    assert not result.accepted, result.output
    assert "deploy/prod.yml" in result.findings()["OWNER_APPROVAL_MISSING"]
    assert server.head() == tip


def _bob_wrote_half(server: Server) -> tuple[GitRepo, str, str, str]:
    """Bob's commit, then alice's on top, approved by bob alone: on the server as ``topic``."""
    alice = server.clone(ALICE)
    base = alice.rev_parse("HEAD")
    alice.commit({"lib.py": "bob's\n"}, "Bob's part", BOB)
    head = alice.commit({"app.py": "alice's\n"}, "Alice's part", ALICE)
    assert push(alice, "HEAD:refs/heads/topic", server.approve(alice, "bob")).accepted
    return alice, base, head, f"{head} {base}\n"  # the graft that hides bob's commit


@pytest.mark.parametrize("where", ["GIT_GRAFT_FILE", "info/grafts"])
def test_a_graft_cannot_hide_a_commit_from_the_hook(
    server: Server, tmp_path: Path, where: str
) -> None:
    """``GIT_GRAFT_FILE`` reaches the hook where the transport passes the pusher's environment
    (an sshd with ``AcceptEnv GIT_*``); the hook is run as git runs it, with that variable."""
    _, base, head, graft = _bob_wrote_half(server)
    env = {**git_env(), "GIT_DIR": str(server.bare.path)}
    if where == "GIT_GRAFT_FILE":
        (tmp_path / "grafts").write_text(graft)
        env["GIT_GRAFT_FILE"] = str(tmp_path / "grafts")
    else:
        (server.bare.path / "info").mkdir(exist_ok=True)
        (server.bare.path / "info" / "grafts").write_text(graft)
    hook = server.bare.path / "hooks" / "pre-receive"
    done = subprocess.run(
        [str(hook)],
        input=f"{base} {head} refs/heads/main\n",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "SELF_APPROVAL: approval by bob" in done.stdout


def test_twokey_check_judges_a_clones_objects_not_their_replacements(server: Server) -> None:
    """A CI job that fetched ``refs/replace/*`` (a mirror fetch) and an earlier step that wrote
    ``.git/info/grafts`` change nothing that ``twokey check`` judges."""
    alice, base, head, graft = _bob_wrote_half(server)
    fake = _look_alike(alice, head, {"lib.py": "", "app.py": "alice's\n"})
    alice.git("replace", head, fake)
    (alice.path / ".git" / "info" / "grafts").write_text(graft)
    alice.git("config", "twokey.repository", REPOSITORY)
    _bob_is_still_an_author(alice, base, head)


def test_twokey_check_reads_parents_from_commits_not_a_forged_commit_graph(
    server: Server,
) -> None:
    """An earlier step of the CI job writes a commit-graph in which alice's commit has the
    base for its parent: plain git then shows no commit of bob's, and ``twokey check`` still
    finds bob among the authors (parents read from the commits, ``_gitrunner``)."""
    alice, base, head, _ = _bob_wrote_half(server)
    forge_commit_graph(alice.path, head, base)
    shown = alice.git("log", "-2", "--format=%H", head).split()
    assert shown == [head, base]  # plain git reads the forged parent
    alice.git("config", "twokey.repository", REPOSITORY)
    _bob_is_still_an_author(alice, base, head)


def _bob_is_still_an_author(alice: GitRepo, base: str, head: str) -> None:
    """``twokey check`` in alice's clone, as a CI job runs it, denies: bob wrote part of it."""
    args = ["check", "--base", base, "--head", head, "--ref", "refs/heads/main"]
    done = subprocess.run(
        [sys.executable, "-m", "twokey", *args],
        cwd=alice.path,
        capture_output=True,
        text=True,
        env=git_env(),
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "SELF_APPROVAL: approval by bob" in done.stdout
