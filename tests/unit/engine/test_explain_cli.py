"""``twokey explain FILE|-`` through the real entry point: every input shape and exit code."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from tests.unit.engine.world import NOW, approve, change, commit, passing_tests, policy
from twokey.cli import main
from twokey.engine import decision_json, evaluate
from twokey.model import RefUpdateFacts

TARGET = commit("explain-me", "alice")
POLICY = policy()
ALLOW = json.loads(
    decision_json(
        evaluate(
            POLICY,
            RefUpdateFacts(change(TARGET), (approve("bob", TARGET),), (passing_tests(TARGET),)),
            NOW,
        )
    )
)
DENY = json.loads(decision_json(evaluate(POLICY, RefUpdateFacts(change(TARGET)), NOW)))

SHAPES = {
    "single-allow": (ALLOW, 0, "ALLOW: refs/heads/main"),
    "single-deny": (DENY, 1, "INSUFFICIENT_APPROVALS"),
    "list-mixed": ([ALLOW, DENY], 1, "DENY: refs/heads/main"),
    "check-output-allow": ({"decisions": [ALLOW, ALLOW]}, 0, "ALLOW: refs/heads/main"),
    "check-output-deny": ({"decisions": [ALLOW, DENY]}, 1, "CHECK_MISSING"),
    "deny-names-remedy": (DENY, 1, "to satisfy: 1 more approval(s)"),
    "deny-names-rule": (DENY, 1, "policy.yml:"),
}


@pytest.mark.parametrize(("data", "code", "text"), SHAPES.values(), ids=SHAPES.keys())
def test_explain_file(
    data: object, code: int, text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "decision.json"
    path.write_text(json.dumps(data))
    assert main(["explain", str(path)]) == code
    assert text in capsys.readouterr().out


def test_explain_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(DENY)))
    assert main(["explain", "-"]) == 1
    assert "DENY: refs/heads/main" in capsys.readouterr().out


BAD = {
    "not-json": ("{nope", "cannot read a decision"),
    "no-verdict": ('{"subject": "x", "findings": []}', "not a twokey decision"),
    "unknown-code": (
        json.dumps({**DENY, "findings": [{**DENY["findings"][0], "code": "NOPE"}]}),
        "",
    ),
}


@pytest.mark.parametrize(("text", "message"), BAD.values(), ids=BAD.keys())
def test_bad_input_is_a_usage_error(
    text: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    assert main(["explain", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_missing_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(tmp_path / "absent.json")]) == 2
    assert "cannot read a decision" in capsys.readouterr().err
