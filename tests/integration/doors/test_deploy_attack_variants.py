"""Variants of "the author deploys their own work" against ``twokey deploy check`` (ADR 0041).

Carol wrote X, alice Y and Z on top (``_deploys.World``); carol deploying Z deploys her own X.
Each variant tries to make carol someone else, or X someone else's, in the deploy job's clone
or environment, and must still end in ``DEPLOYER_IS_AUTHOR``; a deploy approval given for
another environment or commit must not count.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.doors._deploys import ARTIFACT, SIGNED, World, findings
from tests.integration.git._harness import REPOSITORY
from tests.support.commitgraph import forge_commit_graph
from tests.support.gitrepo import ALICE, DAVE, ERIN, Person
from twokey.evidence import GitEvidenceStore, sign_deploy_approval
from twokey.git import GitReader


def _release_with(world: World, author: Person, co_authors: tuple[Person, ...] = ()) -> str:
    """One more commit on the origin's main by ``author``, fetched by the job and attested."""
    seed = world.origin.clone(world.root / "more")
    head = seed.commit({"more.py": "x\n"}, "More work", author, co_authors=co_authors)
    seed.git("push", "-q", "origin", "main")
    world.job.git("fetch", "-q", "origin")
    world.attest(head)
    return head


@pytest.mark.parametrize(
    "spelling",
    ["dave+side@example.com", "Dave@Example.COM", "dave@users.noreply.github.com"],
    ids=["sub-address", "case", "no-reply-of-another-login"],
)
def test_dave_writing_under_another_spelling_may_not_deploy_it(
    world: World, capsys: pytest.CaptureFixture[str], spelling: str
) -> None:
    head = _release_with(world, Person("Dave Ops", spelling))
    code = world.deploy("--deployer", "dave@example.com", commit=head)
    out = capsys.readouterr().out
    assert code == 1, out
    assert "DEPLOYER_IS_AUTHOR" in findings(out), out


def test_a_co_author_of_the_release_may_not_deploy_it(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    head = _release_with(world, ALICE, co_authors=(DAVE,))
    assert world.deploy("--deployer", "dave@example.com", commit=head) == 1
    assert "DEPLOYER_IS_AUTHOR" in findings(capsys.readouterr().out)


def test_a_replace_ref_in_the_jobs_clone_does_not_change_who_wrote_the_release(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """An earlier step of the job (or a mirror fetch of ``refs/replace/*``) dresses X as erin's."""
    job = world.job
    x = world.commits["X"]
    parent = job.git("log", "-1", "--format=%P", x)
    fake = job.git("commit-tree", f"{x}^{{tree}}", "-p", parent, "-m", "Erin's change", person=ERIN)
    job.git("replace", x, fake)
    world.attest("Z")
    assert world.deploy("--deployer", "carol@example.com") == 1
    out = capsys.readouterr().out
    assert "DEPLOYER_IS_AUTHOR" in findings(out)
    assert x[:7] in out


@pytest.mark.parametrize("where", ["GIT_GRAFT_FILE", "info/grafts"])
def test_a_graft_does_not_cut_the_deployers_commit_out_of_the_release(
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    where: str,
) -> None:
    """Y's parent grafted to P: X would vanish from the history the door walks."""
    graft = f"{world.commits['Y']} {world.commits['P']}\n"
    if where == "GIT_GRAFT_FILE":
        (tmp_path / "grafts").write_text(graft)
        monkeypatch.setenv("GIT_GRAFT_FILE", str(tmp_path / "grafts"))
    else:
        (world.job.path / ".git" / "info").mkdir(exist_ok=True)
        (world.job.path / ".git" / "info" / "grafts").write_text(graft)
    world.attest("Z")
    assert world.deploy("--deployer", "carol@example.com") == 1
    assert "DEPLOYER_IS_AUTHOR" in findings(capsys.readouterr().out)


@pytest.mark.parametrize("other", ["environment", "commit"])
def test_a_deploy_approval_for_another_environment_or_commit_does_not_count(
    world: World, capsys: pytest.CaptureFixture[str], other: str
) -> None:
    """Dave approved deploying the artifact to ``frozen``, or of commit Y; ci deploys Z to
    production. Provenance is there (the artifact was built from Z)."""
    world.attest("Z", approvers=())
    store = GitEvidenceStore(world.job.path / ".git")
    envelope = sign_deploy_approval(
        world.keys.signers["dave"],
        artifact=ARTIFACT,
        environment="frozen" if other == "environment" else "production",
        repository=REPOSITORY,
        commit=world.commits["Y" if other == "commit" else "Z"],
        when=SIGNED,
    )
    store.put(envelope, ARTIFACT)
    assert world.deploy("--deployer", "ci") == 1
    assert "INSUFFICIENT_DEPLOY_APPROVALS" in findings(capsys.readouterr().out)


def test_a_shallow_file_does_not_cut_the_deployers_commit_out_of_the_release(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """An earlier step of the job writes ``.git/shallow`` naming Y: git shows Y without
    parents, and X (carol's) would vanish from the history the door walks. Refused."""
    (world.job.path / ".git" / "shallow").write_text(f"{world.commits['Y']}\n")
    world.attest("Z")
    assert world.deploy("--deployer", "carol@example.com") == 3
    captured = capsys.readouterr()
    assert "ALLOW" not in captured.out
    assert "this is a shallow clone and the release reaches where its history is cut" in (
        captured.err
    )
    assert "fetch-depth: 0" in captured.err


def test_a_shallow_clone_is_judged_once_unshallowed(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same job with its history whole again (git fetch --unshallow): carol is the
    author she is."""
    (world.job.path / ".git" / "shallow").write_text(f"{world.commits['Y']}\n")
    world.attest("Z")
    (world.job.path / ".git" / "shallow").unlink()
    assert world.deploy("--deployer", "carol@example.com") == 1
    assert "DEPLOYER_IS_AUTHOR" in findings(capsys.readouterr().out)


def test_a_linked_worktrees_shallow_file_is_its_common_directorys(world: World) -> None:
    """A job in a linked worktree (``git worktree add``): git reads the common directory's
    ``shallow`` file, and so does the door."""
    linked = world.root / "linked"
    world.job.git("worktree", "add", "-q", "--detach", str(linked))
    git_dir = Path(world.job.git("-C", str(linked), "rev-parse", "--absolute-git-dir"))
    assert git_dir != world.job.path / ".git"
    assert not GitReader(git_dir).is_shallow()
    (world.job.path / ".git" / "shallow").write_text(f"{world.commits['Y']}\n")
    assert GitReader(git_dir).is_shallow()


def test_a_forged_commit_graph_does_not_cut_the_deployers_commit_out_of_the_release(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """Y's parent moved from X to P in a commit-graph an earlier job step wrote: plain git
    then shows no X; the gate reads parents from the commits themselves."""
    job, commits = world.job, world.commits
    forge_commit_graph(job.path, commits["Y"], commits["P"])
    shown = job.git("log", "--format=%H", commits["Z"]).split()
    assert commits["X"] not in shown  # the forgery works on git as a job would run it
    world.attest("Z")
    assert world.deploy("--deployer", "carol@example.com") == 1
    out = capsys.readouterr().out
    assert "DEPLOYER_IS_AUTHOR" in findings(out)
    assert commits["X"][:7] in out
