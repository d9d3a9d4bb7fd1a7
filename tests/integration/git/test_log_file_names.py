"""Any file name reads back as itself: the log stream's framing cannot be forged by paths.

``git log -z`` printed paths raw, so a file named ``"\\x01" + 40 hex`` followed by nine more
names started a forged commit record that swallowed the real commit's later paths. Both readers
(the gate's ``GitReader.commits`` and the audit's streamed history) are checked against git's own
``diff-tree`` on names chosen to break a framing: record starts, newlines, tabs, quotes,
backslashes, octal look-alikes, non-UTF-8 bytes.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.support.gitrepo import ALICE, BOB, GitRepo
from twokey.git import GitConfig, GitReader, GitRunner, first_parent_history

HOSTILE = [
    "\x01 ",
    "\x01" + "a" * 40,
    *(f"\x01b{i}" for i in range(9)),
    "line\nbreak",
    "tab\there",
    'quo"te',
    "back\\slash",
    "\\001 not an escape",
    '"quoted"',
    "ü/ñ.txt",
    os.fsdecode(b"latin1-\xe9"),
    "\x01" + "c" * 40 + "/inside-a-directory",
]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    repo = GitRepo.init(tmp_path_factory.mktemp("names") / "r")
    repo.commit({"README": "hi\n"}, "first", ALICE)
    repo.commit(dict.fromkeys(HOSTILE, "x\n") | {".twokey/policy.yml": "v\n"}, "names", BOB)
    repo.commit({"after.txt": "y\n"}, "after", ALICE)
    return repo


def _truth(repo: GitRepo, sha: str) -> tuple[str, ...]:
    args = ["diff-tree", "-r", "--root", "--no-commit-id", "--name-only", "--no-renames", "-z"]
    out = subprocess.run(
        ["git", "-C", str(repo.path), *args, sha],
        capture_output=True,
        check=True,
    ).stdout
    return tuple(os.fsdecode(p) for p in out.split(b"\0") if p)


def test_the_gate_reads_every_commit_and_every_path(repo: GitRepo) -> None:
    reader = GitReader(repo.path / ".git")
    commits = reader.commits(repo.rev_parse("HEAD"), [])
    assert [c.message.strip() for c in commits] == ["first", "names", "after"]
    for commit in commits:
        assert commit.paths == _truth(repo, commit.sha)
    assert set(HOSTILE) | {".twokey/policy.yml"} == set(commits[1].paths)


@pytest.mark.parametrize("chunk", [1 << 18, 5, 1], ids=["big-chunks", "5-bytes", "1-byte"])
def test_the_audit_stream_reads_every_commit_and_every_path(
    repo: GitRepo, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twokey.git import _history  # noqa: PLC0415 - the chunk size is the module's own knob

    monkeypatch.setattr(_history, "_CHUNK", chunk)
    git = GitRunner(repo.path / ".git", config=GitConfig.USER)
    streamed = list(first_parent_history(git, "refs/heads/main", paths=True))
    assert [c.message.strip() for c in streamed] == ["after", "names", "first"]
    for commit in streamed:
        assert commit.paths == _truth(repo, commit.sha)
