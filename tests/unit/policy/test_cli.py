"""``twokey policy check|show`` through the real entry point."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from tests.unit.policy.support import EXAMPLE, HEAD, TAIL
from twokey.cli import main
from twokey.cli._policy import render_rich
from twokey.policy import load


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yml"
    path.write_text(text)
    return path


def test_check_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "check", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    digest = load(EXAMPLE).digest
    assert out == (
        f"ok: {EXAMPLE}: 6 people, 1 services, 4 groups, 2 protected ref rules, "
        f"1 environments ({digest})\n"
    )


def test_check_ok_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "check", str(EXAMPLE), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True
    assert data["problems"] == []
    assert (data["people"], data["services"], data["environments"]) == (6, 1, 1)
    assert data["digest"].startswith("sha256:")


def test_check_default_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".twokey").mkdir()
    (tmp_path / ".twokey/policy.yml").write_text(HEAD + TAIL)
    monkeypatch.chdir(tmp_path)
    assert main(["policy", "check"]) == 0
    assert capsys.readouterr().out.startswith("ok: .twokey/policy.yml: 2 people")


def test_check_lists_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write(tmp_path, "version: 1\npeople:\n  bob: {emial: x}\n")
    assert main(["policy", "check", str(bad)]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "invalid policy: 2 problems"
    assert lines[1].startswith(f"  {bad}:1:1: missing 'policy_changes'")
    assert lines[2] == (
        f"  {bad}:3:9: unknown key 'emial' in people.bob (hint: did you mean 'emails'?)"
    )
    assert "hint: fix every problem listed" in lines[3]


def test_check_lists_every_problem_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path, "version: 1\npeople:\n  bob: {emial: x}\n")
    assert main(["policy", "check", str(bad), "--format", "json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    assert data["problems"][1] == {
        "file": str(bad),
        "line": 3,
        "column": 9,
        "message": "unknown key 'emial' in people.bob",
        "hint": "did you mean 'emails'?",
    }


def test_check_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "none.yml"
    assert main(["policy", "check", str(missing)]) == 2
    assert "cannot read policy" in capsys.readouterr().err
    assert main(["policy", "check", str(missing), "--format", "json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    assert "cannot read policy" in data["problems"][0]["message"]


def test_show_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "show", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "refs/heads/main  [" in out
    assert "  force-push: refused; deletion: refused" in out
    assert "  owners of deploy/**: 1 of carol (excluding authors, co-authors, committers;" in out
    assert "  checks: tests signed by ci" in out
    assert "  from: refs/heads/main; deployers: ci, dave" in out
    assert "  deploy approvals: 1 of dave (excluding approvers, authors;" in out
    assert "  freeze: Fri 16:00 - Mon 08:00 Europe/Berlin" in out
    assert "  break-glass: dave" in out
    assert "policy changes: 2 of erin, frank (excluding nobody;" in out
    assert "  alice: author only" in out
    assert "  ci (service): deploy to production; build for production" in out


def test_show_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "show", str(EXAMPLE), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["people"] == ["alice", "bob", "carol", "dave", "erin", "frank"]
    assert data["services"] == ["ci"]
    main_rule = data["refs"][0]
    assert main_rule["pattern"] == "refs/heads/main"
    assert main_rule["approvers"] == ["bob", "carol", "erin", "frank"]
    assert main_rule["as_written"] == ["reviewers", "admins"]
    assert main_rule["owners"]["deploy/**"]["approvers"] == ["carol"]
    assert main_rule["rule"].endswith(":29:5 (branches.refs/heads/main.approvals)")
    production = data["environments"]["production"]
    assert production["deployers"] == ["ci", "dave"]
    assert production["exclude"] == ["approvers", "authors"]
    assert production["freeze"] == ["Fri 16:00 - Mon 08:00 Europe/Berlin"]
    assert data["policy_changes"]["approvals"] == 2
    assert data["roles"]["dave"] == [
        "approve deploys to production",
        "deploy to production",
        "break glass on production",
    ]


def test_show_invalid_policy_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write(tmp_path, HEAD + "branches:\n  main: {approvals: 3, approvers: [bob]}\n" + TAIL)
    assert main(["policy", "show", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:6:21: branches.refs/heads/main: 3 approvals required" in err


def test_rich_tables() -> None:
    buffer = io.StringIO()
    render_rich(load(EXAMPLE), Console(file=buffer, width=160, force_terminal=False))
    out = buffer.getvalue()
    for title in ("Protected refs", "Environments", "Who can do what"):
        assert title in out
    assert "deploy/**: 1 of carol" in out
    assert "Fri 16:00 - Mon 08:00 Europe/Berlin" in out


@pytest.mark.parametrize(
    ("argv", "code", "stream", "text"),
    [
        (["policy"], 2, "err", "policy commands"),
        (["policy", "--help"], 0, "out", "examples:"),
        (["policy", "check", "--help"], 0, "out", "twokey policy check ops/policy.yml"),
        (["policy", "show", "--format", "xml"], 2, "err", "invalid choice"),
    ],
    ids=["no-subcommand", "help", "check-help", "bad-format"],
)
def test_usage(
    argv: list[str], code: int, stream: str, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == code
    captured = capsys.readouterr()
    assert text in (captured.out if stream == "out" else captured.err)
