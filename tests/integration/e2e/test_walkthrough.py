"""WALKTHROUGH.md end to end: real keys, a real server repository with the hook, real pushes."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest

from twokey.cli import main
from twokey.demo import Step, run_walkthrough
from twokey.ledger import open_ledger

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Step]]:
    root = tmp_path_factory.mktemp("walkthrough")
    return root, run_walkthrough(root / "demo")


def _step(steps: list[Step], number: str, words: str) -> Step:
    return next(s for s in steps if s.number == number and words in s.action)


@pytest.mark.parametrize(
    ("number", "words", "outcome", "codes"),
    [
        ("1", "push the policy to main", "accepted", ()),
        ("2", "push straight to main", "refused", ("INSUFFICIENT_APPROVALS", "CHECK_MISSING")),
        ("3", "approve her own change", "refused", ("NOT_AN_APPROVER",)),
        ("3", "add a commit after Bob's approval", "refused", ("STALE_APPROVAL",)),
        ("3", "after Bob approves again", "accepted", ()),
        ("4", "approve his own deploy/ change", "refused", ("SELF_APPROVAL",)),
        ("4", "but not Carol's", "refused", ("OWNER_APPROVAL_MISSING",)),
        ("4", "after Carol", "accepted", ()),
        ("5", "on her own", "refused", ("POLICY_CHANGE_UNAPPROVED",)),
        ("5", "with Frank's approval", "accepted", ()),
        ("7", "release he wrote part of", "refused", ("INSUFFICIENT_DEPLOY_APPROVALS",)),
        ("7", "deploy job verifies", "accepted", ()),
        ("7", "CI never built", "refused", ("NO_PROVENANCE",)),
        ("8", "Friday night", "refused", ("FREEZE_WINDOW",)),
        ("8", "break glass", "accepted", ("BREAK_GLASS",)),
        ("8", "review his own break-glass", "refused", ("SELF_APPROVAL",)),
        ("8", "review the break-glass on Monday", "accepted", ()),
        ("9", "verify-export", "accepted", ()),
        ("9", "twokey audit", "accepted", ()),
        ("10", "edits an old decision", "refused", ()),
    ],
)
def test_each_step(
    story: tuple[Path, list[Step]], number: str, words: str, outcome: str, codes: tuple[str, ...]
) -> None:
    step = _step(story[1], number, words)
    assert step.outcome == outcome, step.detail
    assert set(codes) <= set(step.codes), step.detail


def test_every_step_as_the_story_says(story: tuple[Path, list[Step]]) -> None:
    assert [s.to_dict() for s in story[1] if not s.as_expected] == []


def test_the_tampered_entry_is_named(story: tuple[Path, list[Step]]) -> None:
    assert "does not match its recorded hash" in _step(story[1], "10", "edits").detail


def test_the_ledger_shows_both_admins_on_the_policy_change(
    story: tuple[Path, list[Step]], capsys: pytest.CaptureFixture[str]
) -> None:
    root = story[0] / "demo"
    export = root / "audit-export"
    decisions = [
        json.loads(__import__("base64").b64decode(json.loads(line)["data"]))
        for line in (export / "entries.jsonl").read_text().splitlines()
    ]
    counted = [
        {c["person"] for c in d["body"]["decision"]["counted"] if c["rule"].startswith("policy")}
        for d in decisions
        if d.get("kind") == "decision" and "decision" in d.get("body", {})
    ]
    assert {"erin", "frank"} in counted
    assert main(["audit", "--repo", str(root / "server" / "shop.git"), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["changes"] == 5


def test_the_audit_with_the_ledger_tells_the_story(
    story: tuple[Path, list[Step]], capsys: pytest.CaptureFixture[str]
) -> None:
    """Step 9: every change as the gate judged it, who pushed and who deployed."""
    root = story[0] / "demo"
    args = ["audit", "--repo", str(root / "server" / "shop.git"), "--format", "json"]
    args += ["--policy", str(root / "clones" / "dave" / ".twokey" / "policy.yml")]
    # Step 10 edited a decision in the database: the audit refuses that ledger (issue 14) ...
    assert main([*args, "--ledger", f"sqlite://{root / 'server' / 'ledger.db'}"]) == 1
    assert "does not verify, so none of its records is used" in capsys.readouterr().err
    # ... and tells the story from the auditor's export (taken before the edit), reloaded.
    clean = f"sqlite://{story[0] / 'from-export.db'}"
    rows = (root / "audit-export" / "entries.jsonl").read_text().splitlines()
    with open_ledger(clean) as ledger:
        ledger.append_raw([base64.b64decode(json.loads(row)["data"]) for row in rows])
    assert main([*args, "--ledger", clean]) == 0
    report = json.loads(capsys.readouterr().out)
    summary = report["summary"]
    # Alice's two commits landed in one push (step 3): one change, as the gate judged it.
    assert (summary["changes"], summary["violations"], summary["gate_disagreements"]) == (4, 0, 0)
    kinds = {c["subject"]: c["kind"] for c in report["changes"]}
    assert kinds["Add cart"] == "push"
    cart = next(c for c in report["changes"] if c["subject"] == "Add cart")
    # Bob approved twice: before Alice's last commit (stale) and after; only the second counted.
    assert sorted((a["who"], a["counted"]) for a in cart["approvers"]) == [
        ("alice", False),
        ("bob", False),
        ("bob", True),
    ]
    assert {c["deployer"] for c in report["changes"]} == {"ci (production)"}
    # Step 8: Dave's Friday-night break-glass deploy is an exception, listed first, which
    # Erin's review closed (Dave's own review was refused and never recorded).
    [exception] = report["exceptions"]
    assert (exception["kind"], exception["actor"], exception["environment"]) == (
        "deploy",
        "dave",
        "production",
    )
    assert exception["reason"] == "production is down"
    assert exception["reviewed"] is True
    assert (exception["review"]["reviewer"], exception["review"]["verdict"]) == (
        "erin",
        "justified",
    )
    assert exception["refused_reviews"] == []
    assert 'id="exceptions"' in (root / "audit.html").read_text()
