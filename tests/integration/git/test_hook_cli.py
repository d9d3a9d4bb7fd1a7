"""``twokey hook`` on the command line, and the hook process's own failure handling."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.integration.git._harness import Keys, policy_text
from tests.support.gitrepo import GitRepo
from twokey.cli import main
from twokey.doors import hook_main


def test_install_and_uninstall(
    tmp_path: Path, keys: Keys, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = GitRepo.init(tmp_path / "r.git", bare=True)
    policy = tmp_path / "p.yml"
    policy.write_text(policy_text(keys.public()))
    args = ["hook", "install", str(bare.path), "--bootstrap-policy", str(policy)]
    assert main([*args, "--repository", "shop", "--ledger", str(tmp_path / "l.db")]) == 0
    assert "installed " in capsys.readouterr().out
    assert (bare.path / "twokey" / "bootstrap-policy.yml").read_text() == policy.read_text()
    assert bare.git("config", "twokey.ledger") == str(tmp_path / "l.db")
    script = (bare.path / "hooks" / "pre-receive").read_text()
    assert "-m twokey.git hook-run" in script
    assert main(["hook", "uninstall", str(bare.path)]) == 0
    assert "removed the pre-receive hook" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["hook"], 2, "usage: twokey hook"),
        (["hook", "install", "/nonexistent/x.git"], 2, "is not a git repository"),
    ],
    ids=["no-command", "not-a-repo"],
)
def test_hook_usage_errors(
    argv: list[str], code: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == code
    captured = capsys.readouterr()
    assert message in captured.out + captured.err


def test_invalid_bootstrap_policy_is_refused_before_anything_is_installed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = GitRepo.init(tmp_path / "r.git", bare=True)
    bad = tmp_path / "bad.yml"
    bad.write_text("version: 1\nnonsense: 1\n")
    assert main(["hook", "install", str(bare.path), "--bootstrap-policy", str(bad)]) == 2
    assert str(bad) in capsys.readouterr().err
    assert not (bare.path / "hooks" / "pre-receive").exists()


def test_hook_process_refuses_garbage_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = GitRepo.init(tmp_path / "r.git", bare=True)
    monkeypatch.setenv("GIT_DIR", str(bare.path))
    out = io.StringIO()
    assert hook_main(io.StringIO("not a ref update\n"), out) == 2
    assert out.getvalue().startswith("twokey: push refused: bad ref update on line 1")
