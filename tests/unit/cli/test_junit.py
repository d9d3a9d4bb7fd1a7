"""``twokey attest check --junit``: what a JUnit report says, and that only a report with a
test that ran and none failed or errored is signed as passed."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.support.gitrepo import ALICE, GitRepo
from twokey.cli import main
from twokey.cli._junit import JUnitSummary, read_junit
from twokey.errors import UsageError

PYTEST = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0"
failures="0" skipped="1" tests="3" time="0.1"><testcase classname="t" name="a" time="0.0"/>
<testcase classname="t" name="b" time="0.0"/><testcase classname="t" name="c">
<skipped message="no db"/></testcase></testsuite></testsuites>"""
SUREFIRE = """<testsuite tests="2" failures="1" errors="0" skipped="0" name="AppTest">
<testcase name="ok" classname="AppTest"/><testcase name="bad" classname="AppTest">
<failure message="expected 1">trace</failure></testcase></testsuite>"""
CASES = {
    "pytest-passed": (PYTEST, JUnitSummary(3, 0, 0, 1), True),
    "surefire-failure": (SUREFIRE, JUnitSummary(2, 1, 0, 0), False),
    "error": (
        '<testsuite><testcase name="x"><error message="boom"/></testcase></testsuite>',
        JUnitSummary(1, 0, 1, 0),
        False,
    ),
    "no-tests": ("<testsuites/>", JUnitSummary(0, 0, 0, 0), False),
    "all-skipped": (
        '<testsuite><testcase name="x"><skipped/></testcase></testsuite>',
        JUnitSummary(1, 0, 0, 1),
        False,
    ),
    "counter-says-failed": (
        '<testsuites><testsuite failures="2"><testcase name="x"/></testsuite></testsuites>',
        JUnitSummary(1, 2, 0, 0),
        False,
    ),
    "case-failed-counter-lies": (
        '<testsuite failures="0"><testcase name="x"><failure/></testcase></testsuite>',
        JUnitSummary(1, 1, 0, 0),
        False,
    ),
}


@pytest.mark.parametrize(("xml", "summary", "passed"), CASES.values(), ids=CASES.keys())
def test_reports(tmp_path: Path, xml: str, summary: JUnitSummary, passed: bool) -> None:
    path = tmp_path / "report.xml"
    path.write_text(xml)
    assert read_junit(path) == summary
    assert read_junit(path).passed is passed


BAD = {
    "not-xml": ("<testsuite><testcase>", "not XML"),
    "other-root": ("<html/>", "not a JUnit report (root <html>)"),
    "entity-bomb": (
        '<!DOCTYPE t [<!ENTITY a "aaaa">]><testsuite><testcase name="&a;"/></testsuite>',
        "a DTD or entity declaration (refused)",
    ),
    "bad-counter": ('<testsuite failures="x"><testcase/></testsuite>', "is not a count"),
}


@pytest.mark.parametrize(("xml", "message"), BAD.values(), ids=BAD.keys())
def test_bad_reports_are_usage_errors(tmp_path: Path, xml: str, message: str) -> None:
    path = tmp_path / "report.xml"
    path.write_text(xml)
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_junit(path)


def test_a_missing_report_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="No such file"):
        read_junit(tmp_path / "nope.xml")


@pytest.mark.parametrize(
    ("xml", "passed"), [(PYTEST, True), (SUREFIRE, False)], ids=["pass", "fail"]
)
def test_attest_check_signs_what_the_report_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], xml: str, passed: bool
) -> None:
    repo = GitRepo.init(tmp_path / "r")
    repo.commit({"a.py": "1\n"}, "init", ALICE)
    key = tmp_path / "ci.key"
    assert main(["keys", "generate", "--out", str(key), "--comment", "ci"]) == 0
    report = tmp_path / "report.xml"
    report.write_text(xml)
    argv = ["attest", "check", "--name", "tests", "--junit", str(report), "--key", str(key)]
    capsys.readouterr()
    assert main([*argv, "--repo", str(repo.path), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["passed"] is passed
    assert out["tree"] == repo.rev_parse("HEAD^{tree}")
    assert out["ref"].startswith("refs/twokey/")
    envelope = json.loads(repo.git("cat-file", "blob", out["ref"]))
    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert f'"passed": {"true" if passed else "false"}' in json.dumps(statement)


def test_junit_and_passed_are_exclusive(tmp_path: Path) -> None:
    argv = ["attest", "check", "--name", "t", "--passed", "--junit", str(tmp_path / "r.xml")]
    assert main(argv) == 2
