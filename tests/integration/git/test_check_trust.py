"""``twokey check`` in a CI clone trusts only what the job names (issue 15 item 6).

A CI clone's refs are whatever the remote holds; on an ungated remote (GitHub, GitLab) anyone
with push rights adds tags. Only the base the job names counts as already reviewed, and the
README's CI example runs exactly as written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.git._harness import NOW, REPOSITORY, Keys, policy_text
from tests.support.gitrepo import BOB, ERIN, GitRepo, git_env
from twokey.evidence import GitEvidenceStore, sign_approval

TWOKEY = (sys.executable, "-m", "twokey")


def _ungated(tmp_path: Path, keys: Keys) -> tuple[GitRepo, GitRepo]:
    """An ungated origin with the policy on main, and bob's clone of it."""
    origin = GitRepo.init(tmp_path / "origin.git", bare=True)
    seed = origin.clone(tmp_path / "seed", ERIN)
    seed.commit({".twokey/policy.yml": policy_text(keys.public())}, "Policy", ERIN)
    seed.git("push", "-q", "origin", "main")
    return origin, origin.clone(tmp_path / "bob", BOB)


def _approve(clone: GitRepo, keys: Keys, who: str) -> None:
    commit = clone.rev_parse("HEAD")
    envelope = sign_approval(
        keys.signers[who],
        repository=REPOSITORY,
        ref="refs/heads/main",
        commit=commit,
        tree=clone.rev_parse("HEAD^{tree}"),
        when=NOW,
    )
    GitEvidenceStore(clone.path / ".git").put(envelope, commit)
    clone.git("push", "-q", "origin", "refs/twokey/*:refs/twokey/*")


def _ci_clone(origin: GitRepo, dest: Path, head: str) -> GitRepo:
    """What a CI job checks out: a full clone, evidence fetched, the PR head detached."""
    ci = origin.clone(dest)
    ci.git("config", "twokey.repository", REPOSITORY)
    ci.git("fetch", "-q", "origin", "refs/twokey/*:refs/twokey/*")
    ci.git("checkout", "-q", "--detach", head)
    return ci


def _readme_example(ci: GitRepo) -> subprocess.CompletedProcess[str]:
    """Exactly the README's CI line, run in the clone."""
    return subprocess.run(
        [sys.executable, "-m", "twokey", "check", "--base", "origin/main", "--head", "HEAD"],
        cwd=ci.path,
        capture_output=True,
        text=True,
        env=git_env(),
        check=False,
    )


def test_the_readme_ci_example_runs_as_written(tmp_path: Path, keys: Keys) -> None:
    origin, bob = _ungated(tmp_path, keys)
    bob.git("checkout", "-q", "-b", "feature")
    bob.commit({"app.py": "x\n"}, "Feature", BOB)
    bob.git("push", "-q", "origin", "feature")
    _approve(bob, keys, "carol")
    done = _readme_example(_ci_clone(origin, tmp_path / "ci", "origin/feature"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ALLOW: refs/heads/main" in done.stdout


def test_a_tag_the_pr_author_pushed_does_not_hide_the_prs_commits(
    tmp_path: Path, keys: Keys
) -> None:
    """bob tags his PR head ``v0.0.0-x`` (``v*`` tags are protected) and approves it himself."""
    origin, bob = _ungated(tmp_path, keys)
    bob.git("checkout", "-q", "-b", "feature")
    bob.commit({"app.py": "mine\n"}, "Feature", BOB)
    bob.git("tag", "v0.0.0-x")
    bob.git("push", "-q", "origin", "feature", "v0.0.0-x")
    _approve(bob, keys, "bob")
    done = _readme_example(_ci_clone(origin, tmp_path / "ci", "origin/feature"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "SELF_APPROVAL" in done.stdout
    assert "INSUFFICIENT_APPROVALS" in done.stdout


@pytest.mark.parametrize("base", ["HEAD~1", "v0.0.0-x", "main"])
def test_a_base_that_is_no_remote_branch_needs_ref(tmp_path: Path, keys: Keys, base: str) -> None:
    _, bob = _ungated(tmp_path, keys)
    bob.commit({"app.py": "x\n"}, "Feature", BOB)
    bob.git("tag", "v0.0.0-x", "HEAD~1")
    done = subprocess.run(
        [sys.executable, "-m", "twokey", "check", "--base", base, "--head", "HEAD"],
        cwd=bob.path,
        capture_output=True,
        text=True,
        env=git_env(),
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "name the ref that would move: --ref refs/heads/main" in done.stderr


class _Planted:
    """Unpickling this runs a command (what a planted pickle cache could do)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os  # noqa: PLC0415

        return os.system, (f"touch {self.marker}",)


def test_a_cache_planted_in_the_clone_is_never_read(tmp_path: Path, keys: Keys) -> None:
    """An earlier job step writes a relaxed compiled policy (JSON, under the name the cache
    would use) and a command-running pickle (the old cache's name) into ``.git``."""
    import hashlib  # noqa: PLC0415
    import json  # noqa: PLC0415
    import pickle  # noqa: PLC0415

    from twokey import __version__  # noqa: PLC0415
    from twokey.doors._policy_json import encode  # noqa: PLC0415
    from twokey.doors._policy_source import _key  # noqa: PLC0415
    from twokey.policy import loads  # noqa: PLC0415

    origin, bob = _ungated(tmp_path, keys)
    bob.git("checkout", "-q", "-b", "feature")
    bob.commit({"app.py": "mine\n"}, "Feature", BOB)
    bob.git("push", "-q", "origin", "feature")
    ci = _ci_clone(origin, tmp_path / "ci", "origin/feature")
    base = ci.rev_parse("origin/main")
    blob = ci.rev_parse("origin/main:.twokey/policy.yml")
    where = f"{base}:.twokey/policy.yml"
    text = ci.git("show", f"{base}:.twokey/policy.yml")
    relaxed = loads(text.replace("approvals: 1", "approvals: 0").encode(), where)
    cache = ci.path / ".git" / "twokey" / "cache"
    cache.mkdir(parents=True)
    (cache / f"policy-{blob}-{_key(where)}.json").write_text(json.dumps(encode(relaxed)))
    old = hashlib.sha256(f"{__version__}\0{where}".encode()).hexdigest()[:12]
    marker = tmp_path / "ran"
    (cache / f"policy-{blob}-{old}.pickle").write_bytes(pickle.dumps(_Planted(marker)))
    done = _readme_example(ci)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "INSUFFICIENT_APPROVALS" in done.stdout
    assert not marker.exists()


def test_a_moved_remote_tracking_base_is_not_trusted(tmp_path: Path, keys: Keys) -> None:
    """A job step moves the clone's ``origin/main`` to the PR head: the change would be empty.
    The base is what the remote's main is, so bob's own commit is judged, and his own
    approval does not count."""
    origin, bob = _ungated(tmp_path, keys)
    bob.git("checkout", "-q", "-b", "feature")
    bob.commit({"app.py": "mine\n"}, "Feature", BOB)
    bob.git("push", "-q", "origin", "feature")
    _approve(bob, keys, "bob")
    ci = _ci_clone(origin, tmp_path / "ci", "origin/feature")
    ci.git("update-ref", "refs/remotes/origin/main", "HEAD")
    done = _readme_example(ci)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "SELF_APPROVAL" in done.stdout


def test_the_base_is_the_remotes_main_even_when_the_clone_is_behind(
    tmp_path: Path, keys: Keys
) -> None:
    """main moved on after the checkout (another merge): the check judges against it."""
    origin, bob = _ungated(tmp_path, keys)
    bob.git("checkout", "-q", "-b", "feature")
    bob.commit({"app.py": "x\n"}, "Feature", BOB)
    bob.git("push", "-q", "origin", "feature")
    _approve(bob, keys, "carol")
    ci = _ci_clone(origin, tmp_path / "ci", "origin/feature")
    erin = origin.clone(tmp_path / "erin", ERIN)
    erin.commit({"other.py": "y\n"}, "Another merge", ERIN)
    erin.git("push", "-q", "origin", "main")
    stale = ci.rev_parse("origin/main")
    done = subprocess.run(
        [*TWOKEY, "check", "--base", "origin/main", "--head", "HEAD", "--format", "json"],
        cwd=ci.path,
        capture_output=True,
        text=True,
        env=git_env(),
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr  # judged, not an error: the base was fetched
    [decision] = json.loads(done.stdout)["decisions"]
    assert decision["update"]["old"] == erin.rev_parse("HEAD") != stale
