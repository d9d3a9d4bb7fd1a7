"""The streaming first-parent history reader against the gate's own reader."""

from __future__ import annotations

import pytest

from tests.support.gitrepo import ALICE, BOB, CAROL, GitRepo
from twokey.git import GitConfig, GitError, GitRunner, _history
from twokey.git._history import brought_commits, first_parent_history
from twokey.git._reader import GitReader


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    repo = GitRepo.init(tmp_path_factory.mktemp("history") / "r")
    repo.commit({"a b.txt": "1\n", "dir/ü.txt": "2\n"}, "first: spaces and ü", ALICE)
    repo.commit(
        {"c.txt": "3\n"},
        "second\n\nReviewed-by: Bob <bob@example.com>\nx: y",
        BOB,
        co_authors=(CAROL,),
    )
    repo.git("checkout", "-q", "-b", "side")
    repo.commit({"s.txt": "4\n"}, "side 1", CAROL)
    repo.commit({"t.txt": "5\n"}, "side 2", CAROL)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "side", "-m", "merge side", person=BOB)
    repo.commit({"empty-msg.txt": "6\n"}, "\x01" + "f" * 40, ALICE)  # looks like a record start
    return repo


@pytest.mark.parametrize("chunk", [1 << 18, 7, 1], ids=["big-chunks", "7-bytes", "1-byte"])
def test_history_matches_the_gate_reader(
    repo: GitRepo, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_history, "_CHUNK", chunk)  # buffer size only: records cross chunks
    git = GitRunner(repo.path / ".git", config=GitConfig.USER)
    reader = GitReader(git.git_dir)
    streamed = list(first_parent_history(git, "refs/heads/main", paths=True))
    assert [c.message.split("\n")[0] for c in streamed] == [
        "\x01" + "f" * 40,
        "merge side",
        "second",
        "first: spaces and ü",
    ]
    for commit in streamed:
        [gate] = [
            c for c in reader.commits(commit.sha, list(commit.parents[:1])) if c.sha == commit.sha
        ]
        assert commit.paths == gate.paths
        assert (commit.author, commit.committer, commit.trailers, commit.co_authors) == (
            gate.author,
            gate.committer,
            gate.trailers,
            gate.co_authors,
        )
    assert streamed[1].paths == ("s.txt", "t.txt")  # the merge against its first parent
    assert streamed[3].paths == ("a b.txt", "dir/ü.txt")
    assert streamed[2].co_authors[0].email == "carol@example.com"


def test_without_paths_no_diff_is_read(repo: GitRepo) -> None:
    git = GitRunner(repo.path / ".git", config=GitConfig.USER)
    assert all(c.paths == () for c in first_parent_history(git, "refs/heads/main"))


def test_a_merge_brings_what_the_gate_sees(repo: GitRepo) -> None:
    git = GitRunner(repo.path / ".git", config=GitConfig.USER)
    merge = next(c for c in first_parent_history(git, "refs/heads/main") if c.is_merge)
    brought = brought_commits(GitReader(git.git_dir), merge)
    assert [c.message.split("\n")[0] for c in brought] == ["side 1", "side 2", "merge side"]
    assert brought[-1].clean_merge is True


def test_stopping_early_ends_git(repo: GitRepo) -> None:
    git = GitRunner(repo.path / ".git", config=GitConfig.USER)
    history = first_parent_history(git, "refs/heads/main")
    assert next(history).parents
    history.close()  # the consumer stops: git is ended, not waited for, and nothing raises


def test_an_unknown_ref_is_a_git_error(repo: GitRepo) -> None:
    with pytest.raises(GitError, match="git log failed: fatal: bad revision"):
        list(
            first_parent_history(
                GitRunner(repo.path / ".git", config=GitConfig.USER), "refs/heads/nope"
            )
        )
