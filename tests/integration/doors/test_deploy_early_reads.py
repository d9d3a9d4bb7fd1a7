"""``twokey deploy check`` starts its git reads before it imports the door (ADR 0035, 0037):
they are still of the repository it names and of the remote it names, never the current
directory's or ``origin``'s when another is asked for."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.integration.doors._deploys import World, findings
from tests.support.gitrepo import ALICE, GitRepo


def test_the_named_remote_decides_not_origin(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``upstream`` lets only dave deploy; ``origin`` lets CI: each check asks its own remote."""
    upstream = GitRepo.init(tmp_path / "upstream.git", bare=True)
    admin = world.origin.clone(tmp_path / "admin", ALICE)
    text = (admin.path / ".twokey" / "policy.yml").read_text()
    admin.commit(
        {".twokey/policy.yml": text.replace("deployers: [dave, carol, ci]", "deployers: [dave]")},
        "Only dave deploys",
        ALICE,
    )
    admin.git("push", "-q", str(upstream.path), "main")
    world.job.git("remote", "add", "upstream", str(upstream.path))
    world.attest("Z")
    assert world.deploy("--deployer", "ci@example.com") == 0
    assert "(policy: origin refs/heads/main:" in capsys.readouterr().out
    assert world.deploy("--deployer", "ci@example.com", "--remote", "upstream") == 1
    out = capsys.readouterr().out
    assert "UNAUTHORIZED_DEPLOYER" in findings(out)
    assert "(policy: upstream refs/heads/main:" in out


def test_the_named_repository_is_read_not_the_current_directory(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run from another clone that holds the artifact's provenance and approvals: the check of
    ``--repo JOB`` reads the job's evidence (none), its settings and its remote."""
    other = world.origin.clone(tmp_path / "other")
    replace(world, job=other).attest("Z")
    monkeypatch.chdir(other.path)
    assert world.deploy("--deployer", "ci@example.com") == 1
    world.attest("Z")
    assert world.deploy("--deployer", "ci@example.com") == 0
