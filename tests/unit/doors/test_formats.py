"""Every output format over one synthetic report (no git needed)."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

import pytest

from twokey.doors import Judgement, Report, ReportFormat, render
from twokey.errors import InfrastructureError
from twokey.git import RefUpdate, parse_log
from twokey.model import Decision, Finding, FindingCode, RuleRef, Severity, Verdict

RULE = RuleRef("abc123:.twokey/policy.yml", 12, 5, "branches.refs/heads/main.approvals")
DENY = Finding(
    FindingCode.INSUFFICIENT_APPROVALS,
    Severity.DENY,
    "needs 1, 0 counted: 100% sure",
    "1 more approval from bob",
    RULE,
)
WARN = Finding(FindingCode.SELF_APPROVAL, Severity.WARN, "alice is an author", "someone else")
UPDATE = RefUpdate("refs/heads/main", "a" * 40, "b" * 40)
REPORT = Report(
    (
        Judgement(UPDATE, Decision(Verdict.DENY, "refs/heads/main aaaaaaa..bbbbbbb", (DENY, WARN))),
        Judgement(
            RefUpdate("refs/heads/topic", "a" * 40, "c" * 40),
            Decision(Verdict.ALLOW, "refs/heads/topic aaaaaaa..ccccccc"),
        ),
    ),
    "shop",
    "refs/heads/main:.twokey/policy.yml",
)


def test_text() -> None:
    text = render(ReportFormat.TEXT, REPORT)
    assert text.splitlines()[:5] == [
        "DENY: refs/heads/main aaaaaaa..bbbbbbb",
        "  ✗ INSUFFICIENT_APPROVALS: needs 1, 0 counted: 100% sure",
        "      rule: abc123:.twokey/policy.yml:12:5 (branches.refs/heads/main.approvals)",
        "      to satisfy: 1 more approval from bob",
        "  ! SELF_APPROVAL: alice is an author",
    ]
    assert text.endswith(
        "1 of 2 ref update(s) denied; nothing was changed (policy: "
        "refs/heads/main:.twokey/policy.yml)"
    )


def test_json() -> None:
    data = json.loads(render(ReportFormat.JSON, REPORT))
    assert data["allowed"] is False
    assert [d["verdict"] for d in data["decisions"]] == ["deny", "allow"]
    assert data["decisions"][0]["update"]["ref"] == "refs/heads/main"


def test_sarif() -> None:
    data = json.loads(render(ReportFormat.SARIF, REPORT))
    results = data["runs"][0]["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("INSUFFICIENT_APPROVALS", "error"),
        ("SELF_APPROVAL", "warning"),
    ]
    location = results[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == ".twokey/policy.yml"
    assert location["region"] == {"startLine": 12, "startColumn": 5}
    assert "locations" not in results[1]


def test_junit() -> None:
    root = ET.fromstring(render(ReportFormat.JUNIT, REPORT))
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    cases = suite.findall("testcase")
    assert [len(c.findall("failure")) for c in cases] == [1, 0]
    system_out = cases[0].find("system-out")
    assert system_out is not None
    assert system_out.text == "SELF_APPROVAL: alice is an author"


def test_github_escapes_as_the_actions_toolkit() -> None:
    lines = render(ReportFormat.GITHUB, REPORT).splitlines()
    assert lines[0].startswith(
        "::error file=.twokey/policy.yml,line=12,title=INSUFFICIENT_APPROVALS::"
        "refs/heads/main aaaaaaa..bbbbbbb: needs 1, 0 counted: 100%25 sure"
    )
    assert lines[1].startswith("::warning title=SELF_APPROVAL::")
    assert len(lines) == 2


@pytest.mark.parametrize("fmt", list(ReportFormat), ids=[f.value for f in ReportFormat])
def test_every_format_renders_an_empty_report(fmt: ReportFormat) -> None:
    assert isinstance(render(fmt, Report(())), str)


def test_parse_log_rejects_what_git_log_never_prints() -> None:
    with pytest.raises(InfrastructureError, match="unexpected git log output"):
        parse_log(b"garbage\0")
    assert parse_log(b"") == []
