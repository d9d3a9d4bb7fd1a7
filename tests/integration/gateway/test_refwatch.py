"""The watched fingerprint of the refs equals the full one after any sequence of ref changes
(real git, real inotify): a check that reuses it sees the refs as a full read would."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twokey.gateway import _gitcache, _refwatch
from twokey.gateway._gitcache import fingerprint
from twokey.gateway._refwatch import current_fingerprint

ENV = {
    **os.environ,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    **{
        f"GIT_{who}_{what}": value
        for who in ("AUTHOR", "COMMITTER")
        for what, value in (("NAME", "A"), ("EMAIL", "a@example.com"), ("DATE", "1700000000 +0000"))
    },
}
SUBJECTS = ("a" * 40, "b" * 40, "c" * 40)


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env=ENV, check=True, capture_output=True)


def _plumbing(repo: Path, stdin: bytes, *args: str) -> str:
    """``git ARGS`` in ``repo`` with ``stdin``; its output, stripped."""
    done = subprocess.run(
        ["git", *args], input=stdin, cwd=repo, env=ENV, check=True, capture_output=True
    )
    return done.stdout.decode().strip()


def _repo(root: Path) -> tuple[Path, str, str]:
    repo = root / "r.git"
    git(root, "init", "-q", "--bare", "-b", "main", str(repo))
    blob = _plumbing(repo, b"x", "hash-object", "-w", "--stdin")
    tree = _plumbing(repo, f"100644 blob {blob}\tf\n".encode(), "mktree")
    one, two = (_plumbing(repo, b"", "commit-tree", tree, "-m", m) for m in ("one", "two"))
    return repo, one, two


_REFS = st.one_of(
    st.sampled_from(["refs/heads/main", "refs/heads/feature", "refs/tags/v1"]),
    st.tuples(st.sampled_from(SUBJECTS), st.sampled_from(["1", "2"])).map(
        lambda p: f"refs/twokey/evidence/{p[0]}/{p[1]}"
    ),
)
_OPS = st.one_of(
    st.tuples(st.just("set"), _REFS, st.booleans()),
    st.tuples(st.just("delete"), _REFS, st.booleans()),
    st.tuples(st.just("pack"), st.just(""), st.booleans()),
    st.tuples(st.just("head"), st.sampled_from(["refs/heads/main", "refs/heads/x"]), st.booleans()),
    st.tuples(st.just("config"), st.just(""), st.booleans()),
    st.tuples(st.just("grafts"), st.just(""), st.booleans()),
    st.tuples(st.just("rmdir"), st.sampled_from(SUBJECTS), st.booleans()),
)


def _apply(repo: Path, op: tuple[str, str, bool], first: str, second: str) -> None:
    kind, name, flag = op
    if kind == "set":
        git(repo, "update-ref", name, first if flag else second)
    elif kind == "delete":
        subprocess.run(
            ["git", "update-ref", "-d", name], check=False, cwd=repo, env=ENV, capture_output=True
        )
    elif kind == "pack":
        git(repo, "pack-refs", "--all", *(["--prune"] if flag else ["--no-prune"]))
    elif kind == "head":
        git(repo, "symbolic-ref", "HEAD", name)
    elif kind == "config":
        git(repo, "config", "twokey.repository", "shop" if flag else "other")
    elif kind == "grafts":
        (repo / "info").mkdir(exist_ok=True)
        (repo / "info" / "grafts").write_text(f"{second} {first}\n" if flag else "")
    else:
        directory = repo / "refs" / "twokey" / "evidence" / name
        for child in directory.glob("*") if directory.is_dir() else ():
            child.unlink()
        if directory.is_dir():
            directory.rmdir()


@pytest.fixture(autouse=True)
def exact_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """No racy window: both fingerprints are taken at once, so they must be equal."""
    monkeypatch.setattr(_gitcache, "_RACY_NS", -(10**18))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(st.tuples(_OPS, st.booleans()), min_size=1, max_size=12))
def test_the_watched_fingerprint_is_the_full_one(
    ops: list[tuple[tuple[str, str, bool], bool]],
) -> None:
    with tempfile.TemporaryDirectory() as root:
        repo, first, second = _repo(Path(root))
        assert current_fingerprint(repo) == fingerprint(repo)
        assert _refwatch._WATCHES.get(repo) is not None  # the watch is in use here
        for op, look in ops:
            _apply(repo, op, first, second)
            if look:  # sometimes several changes come between two checks
                assert current_fingerprint(repo) == fingerprint(repo), op
        assert current_fingerprint(repo) == fingerprint(repo)
        _refwatch._WATCHES.pop(repo).close()  # type: ignore[union-attr]


def test_a_watch_that_fails_falls_back_to_the_full_fingerprint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, first, _ = _repo(tmp_path)
    assert current_fingerprint(repo) == fingerprint(repo)
    watch = _refwatch._WATCHES[repo]
    assert watch is not None

    def failing(directory: str) -> None:
        raise OSError(28, "no space left for watches")

    monkeypatch.setattr(watch, "_watch", failing)
    git(repo, "update-ref", "refs/heads/new", first)
    assert current_fingerprint(repo) == fingerprint(repo)
    assert _refwatch._WATCHES[repo] is None
    git(repo, "update-ref", "refs/heads/newer", first)
    assert current_fingerprint(repo) == fingerprint(repo)
