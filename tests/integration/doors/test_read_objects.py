"""One ``git cat-file --batch`` for a door's object reads (issue 10 item 9), on a real repository.

The names are partly the caller's (``--commit``), so a name must never become two names or be
taken for an object header.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.gitrepo import ALICE, GitRepo
from twokey.doors._trusted import GitObject, read_objects
from twokey.errors import UsageError
from twokey.git import GitReader


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo.init(tmp_path / "repo")
    repo.commit({"a.txt": "alpha\n", "b.txt": "beta\nwith\nlines\n"}, "First", ALICE)
    return repo


def test_many_reads_in_order_with_missing_ones_in_between(repo: GitRepo) -> None:
    head = repo.rev_parse("HEAD")
    found = read_objects(
        GitReader(repo.path / ".git"),
        ["HEAD:a.txt", "nosuch^{commit}", "HEAD^{commit}", "HEAD:missing.txt", "HEAD:b.txt"],
    )
    assert found[0] == GitObject(repo.rev_parse("HEAD:a.txt"), "blob", b"alpha\n")
    assert found[1] is None
    assert found[2] is not None
    assert (found[2].sha, found[2].kind) == (head, "commit")
    assert found[3] is None
    assert found[4] == GitObject(repo.rev_parse("HEAD:b.txt"), "blob", b"beta\nwith\nlines\n")


def test_a_blob_is_no_commit(repo: GitRepo) -> None:
    blob = repo.rev_parse("HEAD:a.txt")
    assert read_objects(GitReader(repo.path / ".git"), [f"{blob}^{{commit}}"]) == [None]


@pytest.mark.parametrize(
    "name",
    [
        f"{'0' * 40} blob 5",  # what a header looks like: still only a name, reported missing
        "HEAD blob 1",
        "a b c",
    ],
    ids=["header-shaped", "header-shaped-rev", "spaces"],
)
def test_a_name_is_never_read_as_a_header(repo: GitRepo, name: str) -> None:
    reader = GitReader(repo.path / ".git")
    assert read_objects(reader, [name, "HEAD:a.txt"])[0] is None
    assert read_objects(reader, [name, "HEAD:a.txt"])[1] is not None


@pytest.mark.parametrize("name", ["HEAD\nHEAD:a.txt", "HEAD\r", ""], ids=["lf", "cr", "empty"])
def test_a_name_with_a_line_break_is_refused(repo: GitRepo, name: str) -> None:
    with pytest.raises(UsageError, match="not a revision"):
        read_objects(GitReader(repo.path / ".git"), [name])
