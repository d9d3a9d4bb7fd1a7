"""A git process started early (``GitRunner.start``, ADR 0035) answers exactly as the call
that takes it would have run it, and only that call takes it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twokey._gitrunner import GitConfig, GitError, GitResult, GitRunner, _started

# Read-only commands, some of which fail (an unknown revision, a bad option, a missing path).
_COMMANDS = [
    ("rev-parse", "HEAD"),
    ("rev-parse", "--verify", "nosuch"),
    ("cat-file", "--batch"),
    ("cat-file", "--batch-check"),
    ("log", "--stdin", "--format=%H %s"),
    ("config", "--get-regexp", "^user\\."),
    ("config", "--get", "no.such"),
    ("for-each-ref", "--format=%(refname)"),
    ("ls-tree", "HEAD", "missing"),
    ("show", "--no-such-option"),
]
_INPUTS = [None, b"", b"HEAD\n", b"HEAD\nnosuch\nHEAD:a.txt\n", b"\n\n"]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("early")
    env = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "HOME": str(root)}

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(root), *args], check=True, env=env, capture_output=True)

    git("init", "-q", "-b", "main")
    (root / "a.txt").write_text("a\n")
    git("add", "a.txt")
    git("-c", "user.name=A", "-c", "user.email=a@example.com", "commit", "-qm", "one")
    return root


def _answer(runner: GitRunner, args: tuple[str, ...], stdin: bytes | None) -> GitResult | str:
    try:
        return runner.call(args, stdin=stdin, ok=(0, 1))
    except GitError as exc:
        return f"GitError: {exc}"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    args=st.sampled_from(_COMMANDS),
    stdin=st.sampled_from(_INPUTS),
    config=st.sampled_from(list(GitConfig)),
)
def test_a_started_process_answers_as_the_call_would(
    repo: Path, args: tuple[str, ...], stdin: bytes | None, config: GitConfig
) -> None:
    plain = GitRunner(repo / ".git", config=config)
    early = GitRunner(repo / ".git", config=config)
    early.start(*args, stdin=stdin)
    assert len(_started) == 1
    assert _answer(early, args, stdin) == _answer(plain, args, stdin)
    assert not _started  # taken


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    started=st.tuples(st.sampled_from(_COMMANDS), st.sampled_from(_INPUTS)),
    called=st.tuples(st.sampled_from(_COMMANDS), st.sampled_from(_INPUTS)),
)
def test_only_the_same_command_and_input_take_it(
    repo: Path,
    started: tuple[tuple[str, ...], bytes | None],
    called: tuple[tuple[str, ...], bytes | None],
) -> None:
    runner = GitRunner(repo / ".git", config=GitConfig.ISOLATED)
    runner.start(*started[0], stdin=started[1])
    _answer(runner, *called)
    assert len(_started) == (0 if started == called else 1)
    runner.discard_started()
    assert not _started


def test_another_environment_does_not_take_it(repo: Path) -> None:
    runner = GitRunner(repo / ".git", config=GitConfig.ISOLATED)
    runner.start("rev-parse", "HEAD")
    runner.env = {**runner.env, "GIT_NAMESPACE": "other"}
    runner.call(["rev-parse", "HEAD"])
    assert len(_started) == 1
    runner.discard_started()


def test_discovery_started_early_is_the_same_and_taken_once(repo: Path) -> None:
    GitRunner.start_discover(repo)
    assert GitRunner.discover(repo).git_dir == GitRunner.discover(repo).git_dir == repo / ".git"
    assert not _started
    GitRunner.start_discover(repo / "missing")
    with pytest.raises(GitError, match="not a git repository"):
        GitRunner.discover(repo / "missing")
    GitRunner.start_discover(repo / "missing")
    GitRunner.discover(repo)  # another path: not taken
    assert len(_started) == 1
    with pytest.raises(GitError, match="not a git repository"):
        GitRunner.discover(repo / "missing")
    assert not _started


def test_a_large_input_is_not_started_early(repo: Path) -> None:
    runner = GitRunner(repo / ".git", config=GitConfig.ISOLATED)
    runner.start("cat-file", "--batch-check", stdin=b"HEAD\n" * 10_000)
    assert not _started
