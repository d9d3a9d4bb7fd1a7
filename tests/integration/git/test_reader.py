"""GitReader against real repositories: commits, people, paths, merges, tags, failures."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.gitrepo import ALICE, BOB, CAROL, GitRepo
from twokey.errors import InfrastructureError
from twokey.git import GitReader
from twokey.model import ZERO_SHA, UpdateKind


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo.init(tmp_path / "r")
    repo.commit({"README.md": "r\n"}, "Root", ALICE)
    return repo


def _reader(repo: GitRepo) -> GitReader:
    return GitReader(repo.path / ".git")


def test_fast_forward_brings_its_commits_oldest_first(repo: GitRepo) -> None:
    old = repo.rev_parse("HEAD")
    one = repo.commit({"a b/ü.txt": "1\n"}, "One\n\nbody", BOB, co_authors=(CAROL,))
    two = repo.commit({"src/x.py": "2\n"}, "Two", ALICE)
    change = _reader(repo).change("refs/heads/main", old, two, repository="r")
    assert [c.sha for c in change.commits] == [one, two]
    first = change.commits[0]
    assert first.author.email == BOB.email
    assert first.author.time is not None
    assert [i.email for i in first.co_authors] == [CAROL.email]
    assert first.paths == ("a b/ü.txt",)
    assert first.trailers == (("Co-authored-by", f"{CAROL.name} <{CAROL.email}>"),)
    assert change.paths == ("a b/ü.txt", "src/x.py")
    assert change.kind is UpdateKind.FAST_FORWARD
    assert change.new_tree == repo.rev_parse("HEAD^{tree}")


def test_creation_excludes_commits_of_protected_refs(repo: GitRepo) -> None:
    base = repo.rev_parse("HEAD")
    new = repo.commit({"f": "1\n"}, "Feature", ALICE)
    change = _reader(repo).change(
        "refs/heads/release", ZERO_SHA, new, repository="r", exclude=[base]
    )
    assert [c.sha for c in change.commits] == [new]
    assert change.kind is UpdateKind.CREATE
    assert change.paths == ("f",)


def test_rewrite_is_not_a_fast_forward_and_deletion_has_no_commits(repo: GitRepo) -> None:
    old = repo.commit({"f": "1\n"}, "One", ALICE)
    repo.git("reset", "-q", "--hard", "HEAD~1")
    new = repo.commit({"f": "2\n"}, "Other", ALICE)
    reader = _reader(repo)
    assert reader.change("refs/heads/main", old, new, repository="r").kind is UpdateKind.FORCE
    gone = reader.change("refs/heads/main", old, ZERO_SHA, repository="r")
    assert gone.kind is UpdateKind.DELETE
    assert gone.commits == ()


def _merge(repo: GitRepo, edit: bool) -> str:
    repo.git("checkout", "-q", "-b", "side")
    repo.commit({"side.txt": "s\n"}, "Side", BOB)
    repo.git("checkout", "-q", "main")
    repo.commit({"main.txt": "m\n"}, "Main", ALICE)
    repo.git("merge", "-q", "--no-ff", "--no-commit", "side", person=ALICE)
    if edit:
        repo.write("extra.txt", "sneaky\n")
        repo.git("add", "extra.txt")
    repo.git("commit", "-q", "-m", "Merge side", person=ALICE)
    return repo.rev_parse("HEAD")


@pytest.mark.parametrize("edit", [False, True], ids=["clean", "edited"])
def test_merge_commits_are_checked_against_git_merge_tree(repo: GitRepo, edit: bool) -> None:
    old = repo.rev_parse("HEAD")
    merge = _merge(repo, edit)
    change = _reader(repo).change("refs/heads/main", old, merge, repository="r")
    head = change.head
    assert head is not None
    assert head.is_merge
    assert head.clean_merge is (not edit)
    assert all(c.clean_merge is None for c in change.commits if not c.is_merge)


def test_octopus_merges_are_never_clean(repo: GitRepo) -> None:
    old = repo.rev_parse("HEAD")
    for name in ("a", "b"):
        repo.git("checkout", "-q", "-b", name, old)
        repo.commit({f"{name}.txt": name}, name, BOB)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "Octopus", "a", "b", person=ALICE)
    assert len(repo.git("log", "-1", "--format=%P").split()) == 3
    change = _reader(repo).change("refs/heads/main", old, repo.rev_parse("HEAD"), repository="r")
    assert change.head is not None
    assert change.head.clean_merge is False


def test_annotated_tag_resolves_to_its_commit_tree(repo: GitRepo) -> None:
    repo.git("tag", "-a", "v1", "-m", "one", person=ALICE)
    tag = repo.rev_parse("v1")
    change = _reader(repo).change("refs/tags/v1", ZERO_SHA, tag, repository="r")
    assert change.new_tree == repo.rev_parse("HEAD^{tree}")
    assert [c.sha for c in change.commits] == [repo.rev_parse("HEAD")]


def test_unknown_objects_are_infrastructure_errors(repo: GitRepo) -> None:
    with pytest.raises(InfrastructureError, match="names no object in this repository"):
        _reader(repo).change("refs/heads/main", ZERO_SHA, "1" * 40, repository="r")


def test_blob_at_and_shallow(repo: GitRepo) -> None:
    reader = _reader(repo)
    found = reader.blob_at("HEAD", "README.md")
    assert found is not None
    assert found[1] == b"r\n"
    assert reader.blob_at("HEAD", "missing") is None
    assert reader.is_shallow() is False
    assert reader.head_ref() == "refs/heads/main"


def test_commit_signatures_are_verified_like_git_verify_commit(
    repo: GitRepo, tmp_path: Path
) -> None:
    key = tmp_path / "signing"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    old = repo.rev_parse("HEAD")
    repo.git("config", "gpg.format", "ssh")
    repo.git("config", "user.signingkey", str(key))
    signed = repo.commit({"s.txt": "s\n"}, "Signed", ALICE)
    repo.git("commit", "-q", "--amend", "-S", "--no-edit", person=ALICE)
    signed = repo.rev_parse("HEAD")
    repo.git("config", "commit.gpgsign", "false")
    plain = repo.commit({"p.txt": "p\n"}, "Plain", ALICE)
    change = _reader(repo).change("refs/heads/main", old, plain, repository="r", signatures=True)
    by_sha = {c.sha: c.signature for c in change.commits}
    assert by_sha[plain] is None
    signature = by_sha[signed]
    assert signature is not None
    assert signature.valid
    assert signature.key is not None
    assert signature.key.value == " ".join((key.with_suffix(".pub").read_text()).split()[:2])
