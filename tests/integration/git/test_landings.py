"""``GitReader.landings``: what landing an approved head on the old tip gives (ADR 0011)."""

from __future__ import annotations

from pathlib import Path

from tests.support.gitrepo import ALICE, BOB, GitRepo
from twokey.git import GitReader
from twokey.model import ZERO_SHA


def _repo(tmp_path: Path) -> tuple[GitRepo, str]:
    repo = GitRepo.init(tmp_path / "r")
    return repo, repo.commit({"a.txt": "a\n", "b.txt": "b\n"}, "Root", ALICE)


def test_a_clean_landing_is_the_merge_tree_and_reads_who_wrote_it(tmp_path: Path) -> None:
    repo, root = _repo(tmp_path)
    repo.git("checkout", "-q", "-b", "feature")
    head = repo.commit({"b.txt": "B\n"}, "Bob's", BOB)
    repo.git("checkout", "-q", "main")
    old = repo.commit({"a.txt": "A\n"}, "Alice's", ALICE)
    merged = repo.git("merge-tree", "--write-tree", old, head).splitlines()[0]
    reader = GitReader(repo.path / ".git")
    [landing] = reader.landings(old, [head], new_tree=merged)
    assert (landing.head_tree, landing.tree) == (repo.rev_parse(f"{head}^{{tree}}"), merged)
    assert [c.sha for c in landing.commits] == [head]
    [other] = reader.landings(old, [head], new_tree="0" * 40)
    assert other.tree == merged
    assert other.commits == ()
    [again] = reader.landings(head, [root])
    assert again.tree == repo.rev_parse(f"{head}^{{tree}}")  # already there: a no-op


def test_creation_conflict_unrelated_and_unknown(tmp_path: Path) -> None:
    repo, root = _repo(tmp_path)
    repo.git("checkout", "-q", "-b", "left")
    left = repo.commit({"a.txt": "left\n"}, "Left", ALICE)
    repo.git("checkout", "-q", "-b", "right", root)
    right = repo.commit({"a.txt": "right\n"}, "Right", BOB)
    repo.git("checkout", "-q", "--orphan", "unrelated")
    alone = repo.commit({"c.txt": "c\n"}, "Alone", BOB)
    reader = GitReader(repo.path / ".git")
    found = {x.head: x for x in reader.landings(left, [right, alone, "1" * 40])}
    assert found[right].tree == ""
    assert found[right].head_tree
    assert found[alone].tree == ""  # merge-tree refuses unrelated histories
    assert (found["1" * 40].head_tree, found["1" * 40].tree) == ("", "")  # not held
    [created] = reader.landings(ZERO_SHA, [left])
    assert created.tree == repo.rev_parse(f"{left}^{{tree}}")  # a creation lands the head
