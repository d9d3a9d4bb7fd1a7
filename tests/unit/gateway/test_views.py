"""The web UI's view helpers: findings explained, the custody stages, ledger rows."""

from __future__ import annotations

import json

import pytest

from twokey.gateway._routes_ui import _script_json
from twokey.gateway._views import entry_row, explain_findings, stages

POLICY = "version: 1\nenvironments:\n  production:\n    approvals: 1\n"


def _finding(code: str, severity: str, line: int | None = 4) -> dict[str, object]:
    rule = {"file": "refs/heads/main:.twokey/policy.yml", "line": line} if line else None
    return {"code": code, "severity": severity, "message": "m", "satisfy": "s", "rule": rule}


def test_findings_come_denies_first_with_their_rule_and_its_line() -> None:
    decision = {"findings": [_finding("DEPLOY_APPROVER_CONFLICT", "warn"), _finding("X", "deny")]}
    found = explain_findings(decision, POLICY)
    assert [f.severity for f in found] == ["deny", "warn"]
    assert found[0].where == "refs/heads/main:.twokey/policy.yml:4"
    assert found[0].source == "approvals: 1"


@pytest.mark.parametrize("line", [None, 99, 0], ids=["no rule", "past the end", "zero"])
def test_a_finding_without_a_usable_line_shows_no_source(line: int | None) -> None:
    (found,) = explain_findings({"findings": [_finding("X", "deny", line)]}, POLICY)
    assert found.source == ""


def test_junk_in_a_recorded_decision_is_skipped() -> None:
    assert explain_findings({"findings": ["not a finding", None]}, POLICY) == []
    assert explain_findings({}, POLICY) == []


def test_stages_keep_their_order_and_are_marked_by_the_findings() -> None:
    timeline = [
        {"step": "request", "who": "ci"},
        {"step": "commit", "sha": "a" * 40},
        {"step": "provenance", "who": "bob"},
        {"step": "decision", "state": "denied"},
    ]
    found = explain_findings({"findings": [_finding("UNTRUSTED_BUILDER", "deny")]}, POLICY)
    shown = stages(timeline, found, "denied")
    assert [s.key for s in shown] == [
        "commit",
        "approval",
        "check",
        "provenance",
        "request",
        "deploy-approval",
        "decision",
        "authorization",
    ]
    by = {s.key: s for s in shown}
    assert by["provenance"].status == "blocked"
    assert "UNTRUSTED_BUILDER" in by["provenance"].note
    assert by["check"].status == "missing"
    assert by["decision"].status == "blocked"
    assert by["authorization"].note == "none: the request is denied"


def test_a_pending_request_waits_for_its_deploy_approval() -> None:
    found = explain_findings({"findings": [_finding("INSUFFICIENT_DEPLOY_APPROVALS", "deny")]}, "")
    by = {s.key: s for s in stages([], found, "pending")}
    assert by["deploy-approval"].status == "waiting"
    assert by["decision"].status == "waiting"


def test_ledger_rows_name_what_an_entry_is_about() -> None:
    deploy = {
        "kind": "deploy",
        "time": "t",
        "body": {
            "environment": "production",
            "commit": "c" * 40,
            "deployer": "email:ci@example.com",
            "door": "gateway",
            "decision": {"verdict": "deny"},
        },
    }
    row = entry_row(3, json.dumps(deploy).encode())
    assert (row.kind, row.door, row.verdict) == ("deploy", "gateway", "deny")
    assert row.subject == f"deploy production {'c' * 12} email:ci@example.com"
    access = {"kind": "access", "body": {"action": "session", "person": "dave", "method": "code"}}
    assert entry_row(4, json.dumps(access).encode()).subject == "session dave (code)"
    assert entry_row(5, b"\xff not json").kind == "unreadable"


def test_json_for_a_script_block_cannot_close_it() -> None:
    text = _script_json({"note": "</script><script>alert(1)</script>&"})
    assert not {"<", ">", "&"} & set(text)
    assert json.loads(text) == {"note": "</script><script>alert(1)</script>&"}
