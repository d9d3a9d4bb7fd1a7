"""``hook install`` says which repository id approvals must name, and how a clone names it.

A real server repository with the installed hook, real clones and real pushes: a clone whose
origin URL gives another id is refused with a hint naming ``git config twokey.repository``;
after it runs that, the same approval flow is accepted.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.gitrepo import ALICE, BOB, ERIN, GitRepo, git_env
from twokey.cli import main


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.delenv("TWOKEY_LEDGER", raising=False)
    monkeypatch.delenv("TWOKEY_KEY", raising=False)


def _policy(bob_key: str) -> str:
    return f"""\
version: 1
people:
  alice: {{name: Alice Smith, emails: [alice@example.com]}}
  bob: {{name: Bob Jones, emails: [bob@example.com], keys: ["{bob_key}"]}}
  erin: {{name: Erin Admin, emails: [erin@example.com]}}
  frank: {{name: Frank Admin, emails: [frank@example.com]}}
branches:
  main: {{approvals: 1, approvers: [bob]}}
policy_changes: {{approvals: 2, approvers: [erin, frank]}}
"""


def _push(clone: GitRepo, *refspecs: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(clone.path), "push", "origin", *refspecs],
        capture_output=True,
        text=True,
        env={**git_env(), "TWOKEY_PUSHER": "email:alice@example.com"},
        check=False,
    )


def test_install_prints_the_id_and_a_clone_can_name_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "bob.key"
    assert main(["keys", "generate", "--out", str(key), "--comment", "bob"]) == 0
    bob_key = " ".join(Path(f"{key}.pub").read_text().split()[:2])
    server = GitRepo.init(tmp_path / "srv" / "shop.git", bare=True)
    seed = server.clone(tmp_path / "seed", ERIN)
    seed.commit({".twokey/policy.yml": _policy(bob_key)}, "policy", ERIN)
    seed.git("push", "-q", "origin", "main")
    capsys.readouterr()

    assert main(["hook", "install", str(server.path)]) == 0
    out = capsys.readouterr().out
    assert "repository id: shop" in out
    assert "git config twokey.repository shop" in out

    alice = server.clone(tmp_path / "alice", ALICE)
    alice.commit({"app.py": "print(1)\n"}, "feature", ALICE)
    assert _push(alice, "HEAD:refs/heads/feature").returncode == 0
    bob = server.clone(tmp_path / "bob", BOB)
    bob.git("fetch", "-q", "origin")
    approve = ["approve", "origin/feature", "--repo", str(bob.path), "--key", str(key), "--push"]

    assert main(approve) == 0  # bob's clone computes its id from its origin URL: a path
    refused = _push(alice, "HEAD:refs/heads/main")
    assert refused.returncode != 0
    assert "EVIDENCE_MISMATCH" in refused.stderr
    assert "git config twokey.repository shop" in refused.stderr

    bob.git("config", "twokey.repository", "shop")  # what install told us to say
    assert main(approve) == 0
    accepted = _push(alice, "HEAD:refs/heads/main")
    assert accepted.returncode == 0, accepted.stderr
