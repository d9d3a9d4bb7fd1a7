"""Property (ADR 0037): a change's ``fast_forward`` is ``git merge-base --is-ancestor``'s answer,
also when it is read from the change's own commits (a commit the log lists has ``old`` as a
parent) and no ``merge-base`` runs.

Over random histories (random parents: merges, criss-crosses, unrelated roots), for random
``old -> new`` updates with random already-reviewed tips left out of the change, the
reader's ``change`` is compared with a lone ``merge-base --is-ancestor``; and whenever the log
shows the parent, no ``merge-base`` may run at all. The real repositories are checked by
``bench/check_fast_forward.py`` (numpy, flask, requests, golang/tools).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twokey._gitrunner import GitRunner
from twokey.git import GitReader
from twokey.git._reader import _has_parent

_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_AUTHOR_NAME": "A",
    "GIT_AUTHOR_EMAIL": "a@example.com",
    "GIT_COMMITTER_NAME": "A",
    "GIT_COMMITTER_EMAIL": "a@example.com",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
}

# Each commit: its parents (indexes into the earlier commits, modulo; none: a new root).
histories = st.lists(st.lists(st.integers(0, 40), max_size=3), min_size=2, max_size=24)
updates = st.lists(
    st.tuples(st.integers(0, 99), st.integers(0, 99), st.lists(st.integers(0, 99), max_size=3)),
    min_size=1,
    max_size=8,
)


def _build(root: Path, parents: list[list[int]]) -> list[str]:
    """A history from ``git commit-tree`` (an empty tree each time); the commit ids."""

    def git(*args: str) -> str:
        env = {**_ENV, "PATH": "/usr/bin:/bin"}
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, check=True, env=env
        )
        return done.stdout.decode().strip()

    git("init", "-q", "--bare")
    tree = git("mktree")  # empty stdin: the empty tree
    shas: list[str] = []
    for n, picks in enumerate(parents):
        chosen = list(dict.fromkeys(shas[p % len(shas)] for p in picks)) if shas else []
        args = [a for sha in chosen for a in ("-p", sha)]
        shas.append(git("commit-tree", tree, *args, "-m", f"c{n}"))
    return shas


def _is_ancestor(git: GitRunner, old: str, new: str) -> bool:
    return git.call(["merge-base", "--is-ancestor", old, new], ok=(0, 1)).code == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parents=histories, picks=updates)
def test_fast_forward_is_merge_bases_answer(
    parents: list[list[int]], picks: list[tuple[int, int, list[int]]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shas = _build(root, parents)
        reader = GitReader(root)
        for old_at, new_at, excluded in picks:
            old, new = shas[old_at % len(shas)], shas[new_at % len(shas)]
            exclude = [shas[e % len(shas)] for e in excluded]
            change = reader.change("refs/heads/main", old, new, repository="r", exclude=exclude)
            assert change.fast_forward == _is_ancestor(reader.git, old, new)
            if _has_parent(change.commits, old):
                assert _is_ancestor(reader.git, old, new)  # the shortcut never says yes wrongly


def test_a_fast_forward_the_log_shows_runs_no_merge_base(tmp_path: Path) -> None:
    """The usual push (``new`` on top of ``old``): no ``merge-base`` process; a rewrite still
    asks it (and is no fast-forward)."""
    shas = _build(tmp_path, [[], [0], [1], [0]])
    reader = GitReader(tmp_path)
    trace = tmp_path / "trace"
    reader.git.env["GIT_TRACE"] = str(trace)
    assert reader.change("refs/heads/main", shas[0], shas[2], repository="r").fast_forward
    assert "merge-base" not in trace.read_text()
    assert not reader.change("refs/heads/main", shas[2], shas[3], repository="r").fast_forward
    assert "merge-base" in trace.read_text()
