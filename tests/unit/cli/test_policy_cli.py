"""``twokey policy`` and ``twokey explain`` through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.engine.world import NOW, approve, change, commit, policy
from twokey.cli import main
from twokey.engine import decision_json, evaluate
from twokey.model import RefUpdateFacts

EXAMPLE = Path(__file__).resolve().parents[3] / "src/twokey/policy/examples/walkthrough.yml"


def test_policy_check_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "check", str(EXAMPLE)]) == 0
    assert "ok: " in capsys.readouterr().out


def test_policy_check_lists_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "p.yml"
    bad.write_text("version: 1\npeople:\n  bob: {emial: x}\n")
    assert main(["policy", "check", str(bad)]) == 2
    out = capsys.readouterr().out
    assert f"{bad}:3:9: unknown key 'emial'" in out
    assert "missing 'policy_changes'" in out
    assert main(["policy", "check", str(bad), "--format", "json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    assert {p["line"] for p in data["problems"]} == {1, 3}


def test_policy_check_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "check", str(tmp_path / "none.yml")]) == 2
    assert "cannot read policy" in capsys.readouterr().err


def test_policy_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "show", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "owners of deploy/**: 1 of carol" in out
    assert "policy changes: 2 of erin, frank" in out
    assert main(["policy", "show", str(EXAMPLE), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["environments"]["production"]["deployers"] == ["ci", "dave"]


def test_explain_renders_and_exits_by_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = commit("x", "alice")
    decision = evaluate(policy(), RefUpdateFacts(change(target), (approve("alice", target),)), NOW)
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"decisions": [json.loads(decision_json(decision))]}))
    assert main(["explain", str(path)]) == 1
    out = capsys.readouterr().out
    assert "DENY: refs/heads/main" in out
    assert "to satisfy: 1 more approval(s)" in out
    path.write_text("{}")
    assert main(["explain", str(path)]) == 2


def test_no_command_is_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["--version"]) == 0
    assert "twokey" in capsys.readouterr().out
