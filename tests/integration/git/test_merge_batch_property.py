"""Property (issue 13, ADR 0030): ``git merge-tree --stdin`` gives every pair exactly what a
lone ``git merge-tree --write-tree`` gives, whatever was merged before it in the process.

``GitReader.merge_trees`` replaces one merge-tree process per merge by one per run of merges;
the gate's clean-merge check (``GitReader.clean_merge``) is the lone process. Over random
histories built with ``git fast-import`` (random parents, so criss-crosses, several merge
bases and unrelated roots; random edits of a few paths in nested directories, so renames,
directory renames, file/directory conflicts, deletions, mode changes, symlinks, both sides
making the same change; merge commits whose tree is the clean merge, another tree, or an
evil edit of it), every pair of commits (in a random order, with repeats) is merged both ways
and the answers compared; so are ``clean_merges`` and ``clean_merge`` for every merge commit.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from random import Random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twokey.git import GitReader

PATHS = ("a", "b", "d/x", "d/y", "d/z", "d/w", "e/x", "e/y", "a/x", "d")  # "a" vs "a/x": D/F
KINDS = ("write", "write", "write", "delete", "move", "movedir", "exec", "link")


@dataclass(frozen=True)
class Edit:
    path: str
    kind: str  # one of KINDS; "move": delete ``path``, write ``to``; "movedir": d/ to e/
    content: int = 0
    to: str = ""


@dataclass(frozen=True)
class Step:
    """One commit: its parents (indexes into the earlier commits, modulo; none: a new root),
    whether it starts from git's own merge of its first two parents, and its edits."""

    parents: list[int]
    root: bool
    merged: bool
    edits: list[Edit]


edits = st.builds(
    Edit, st.sampled_from(PATHS), st.sampled_from(KINDS), st.integers(0, 5), st.sampled_from(PATHS)
)
steps = st.builds(
    Step,
    st.lists(st.integers(0, 50), min_size=1, max_size=2),
    st.integers(0, 9).map(lambda n: n == 0),  # a new root, now and then
    st.booleans(),
    st.lists(edits, max_size=4),
)


def _content(n: int) -> bytes:
    """Contents alike but for one line: a delete and an add pair up as a rename."""
    lines = [f"line {k}\n" for k in range(12)]
    lines[n] = f"changed {n}\n"
    return "".join(lines).encode()


def _commands(edit: Edit) -> list[bytes]:
    """fast-import file commands (a file replaces a directory and back; D of nothing is a
    no-op)."""
    data = _content(edit.content)
    if edit.kind == "delete":
        return [f"D {edit.path}".encode()]
    if edit.kind == "movedir":  # the whole of d/ to e/ (git then finds a directory rename)
        return [b"M 100644 inline d/x", b"data %d" % len(data), data, b"R d e"]
    if edit.kind == "move":
        write = f"M 100644 inline {edit.to}".encode()
        return [f"D {edit.path}".encode(), write, b"data %d" % len(data), data]
    mode = {"exec": "100755", "link": "120000"}.get(edit.kind, "100644")
    data = b"d" if edit.kind == "link" else data
    return [f"M {mode} inline {edit.path}".encode(), b"data %d" % len(data), data]


def _git(git_dir: Path, *args: str, stdin: bytes | None = None, ok: bool = False) -> str:
    done = subprocess.run(
        ["git", "--git-dir", str(git_dir), *args], input=stdin, capture_output=True, check=not ok
    )
    return done.stdout.decode().strip() if done.returncode == 0 else ""


def _build(git_dir: Path, plan: list[Step]) -> list[str]:
    """One commit per step (git fast-import, one process each); their ids in order."""
    subprocess.run(["git", "init", "-q", "--bare", str(git_dir)], check=True)
    ids: list[str] = []
    for i, step in enumerate(plan):
        parents = [] if step.root or not i else list({ids[p % i]: 0 for p in step.parents})
        lines = [f"commit refs/heads/c{i}".encode(), f"committer C <c@e> {i} +0000".encode()]
        lines += [b"data 2", b"c%d" % i]
        lines += [f"{'from' if n == 0 else 'merge'} {p}".encode() for n, p in enumerate(parents)]
        if step.merged and len(parents) == 2:  # git's own merge: clean, or with its markers
            tree = _git(git_dir, "merge-tree", "--write-tree", *parents, ok=True).split("\n")[0]
            if tree:
                lines.append(f'M 040000 {tree} ""'.encode())
        for edit in step.edits:
            lines += _commands(edit)
        _git(git_dir, "fast-import", "--quiet", stdin=b"\n".join(lines) + b"\n\n")
        ids.append(_git(git_dir, "rev-parse", f"c{i}"))
    return ids


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(plan=st.lists(steps, min_size=3, max_size=9), order=st.randoms(use_true_random=False))
def test_batched_merge_trees_are_the_lone_merge_trees(plan: list[Step], order: Random) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        git_dir = Path(tmp) / "repo.git"
        ids = _build(git_dir, plan)
        pairs = [(a, b) for a in ids for b in ids]
        pairs += order.sample(pairs, min(len(pairs), 8))  # repeats
        order.shuffle(pairs)
        batched = GitReader(git_dir).merge_trees(pairs)
        lone = GitReader(git_dir)
        for ours, theirs in pairs:
            assert batched[ours, theirs] == lone.merge_tree(ours, theirs), (ours, theirs)
        found = GitReader(git_dir).commits(ids[-1], [], merges=False)
        for ref in ids[:-1]:
            found += GitReader(git_dir).commits(ref, [], merges=False)
        merges = [c for c in found if c.is_merge]
        judged = GitReader(git_dir).clean_merges(merges)
        alone = GitReader(git_dir)
        assert [c.clean_merge for c in judged] == [alone.clean_merge(c) for c in merges]
        assert GitReader(git_dir).commits(ids[-1], []) == [
            replace(c, clean_merge=alone.clean_merge(c)) if c.is_merge else c
            for c in GitReader(git_dir).commits(ids[-1], [], merges=False)
        ]


def test_a_refused_pair_in_the_middle_is_asked_alone(tmp_path: Path) -> None:
    """git dies on unrelated histories: the pairs before it are kept, the rest batched again."""
    plan = [
        Step([], True, False, [Edit("a", "write", 1)]),
        Step([0], False, False, [Edit("b", "write", 2)]),
        Step([], True, False, [Edit("a", "write", 1)]),
        Step([0], False, False, [Edit("a", "write", 3)]),
    ]
    ids = _build(tmp_path / "repo.git", plan)
    c1, c2, c3 = ids[1:]
    pairs = [(c1, c3), (c1, c2), (c3, c1), (c2, ids[0]), (c1, c3), (c3, c2)]
    found = GitReader(tmp_path / "repo.git").merge_trees(pairs)
    lone = GitReader(tmp_path / "repo.git")
    assert found == {pair: lone.merge_tree(*pair) for pair in pairs}
    assert found[c1, c2] == found[c2, ids[0]] == found[c3, c2] == ""  # unrelated: refused
    assert found[c1, c3]  # clean, before a refused pair
    assert found[c3, c1]  # and after one


def test_conflicted_paths_that_read_like_records(tmp_path: Path) -> None:
    """A conflicted path named "1", "0" or like a tree id cannot shift the batch's records:
    they end at the empty field git prints after the paths (never an empty path)."""
    hexname = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
    names = ("1", "0", hexname)
    base = Step([], True, False, [Edit(n, "write", 0) for n in ("a", *names)])
    plan = [
        base,
        Step([0], False, False, [Edit(n, "write", 1) for n in names]),
        Step([0], False, False, [Edit(n, "write", 2) for n in names]),
        Step([0], False, False, [Edit("a", "write", 3)]),
    ]
    ids = _build(tmp_path / "repo.git", plan)
    pairs = [(ids[1], ids[2]), (ids[1], ids[3]), (ids[2], ids[1]), (ids[3], ids[2])]
    reader = GitReader(tmp_path / "repo.git")
    found = reader.merge_trees(pairs)
    lone = GitReader(tmp_path / "repo.git")
    assert found == {pair: lone.merge_tree(*pair) for pair in pairs}
    assert found[ids[1], ids[2]] == ""  # the conflict
    assert found[ids[1], ids[3]]  # clean, after it
    auto = reader.auto_merge(ids[1], ids[2])
    assert auto is not None
    assert set(auto[1]) == set(names)
