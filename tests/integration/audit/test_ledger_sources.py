"""The ledger as an evidence source: recorded gate decisions, forge reviews, deploys."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.integration.audit.support import REF, build_history, key_of, policy_file
from tests.support.gitrepo import ALICE, BOB, GitRepo
from twokey.audit import AuditOptions, Deployment, ReportFormat, render, run_audit
from twokey.errors import UsageError
from twokey.evidence import Ed25519Signer, sign_approval
from twokey.ledger import Entry, EntryKind, open_ledger

WHEN = datetime(2026, 5, 1, 9, tzinfo=UTC)
REVIEWED = datetime(2026, 3, 1, 11, tzinfo=UTC)


def decision(
    new: str,
    pusher: str,
    verdict: str,
    glass: str = "",
    *,
    old: str = "0" * 40,
    door: str = "git-hook",
) -> Entry:
    findings = (
        [{"code": "BREAK_GLASS", "message": f"break-glass by erin: {glass}"}] if glass else []
    )
    body: dict[str, Any] = {
        "door": door,
        "repository": "r",
        "ref": REF,
        "old": old,
        "new": new,
        "pusher": pusher,
        "evidence": [],
        "decision": {"verdict": verdict, "break_glass": bool(glass), "findings": findings},
    }
    return Entry(EntryKind.DECISION, body, WHEN)


def deploy(commit: str, verdict: str) -> Entry:
    body = {
        "repository": "r",
        "environment": "production",
        "commit": commit,
        "deployer": "email:dave@example.com",
        "decision": {"verdict": verdict},
    }
    return Entry(EntryKind.DEPLOY, body, WHEN)


def forge_review(commit: str, tree: str) -> Entry:
    approval = {
        "repository": "r",
        "ref": REF,
        "commit": commit,
        "tree": tree,
        "signer": "email:bob@example.com",
        "time": "2026-03-01T11:00:00+00:00",
        "source": "github review",
    }
    return Entry(EntryKind.EVIDENCE, {"approval": approval}, WHEN)


def signed_review(commit: str, tree: str) -> Entry:
    """An approval entry carrying bob's signed envelope: evidence the audit verifies itself."""
    envelope = sign_approval(
        Ed25519Signer(key_of("bob")),
        repository="r",
        ref=REF,
        commit=commit,
        tree=tree,
        when=REVIEWED,
    )
    body = {"envelope": base64.b64encode(envelope).decode(), "source": "github review"}
    return Entry(EntryKind.EVIDENCE, body, WHEN)


def test_ledger_records_change_the_rows(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "r")
    c = build_history(repo)
    url = f"sqlite://{tmp_path / 'ledger.db'}"
    with open_ledger(url) as ledger:
        ledger.append(
            [
                decision(c["rev"], "email:bob@example.com", "allow"),
                decision(c["unrev"], "email:erin@example.com", "allow", glass="prod down"),
                forge_review(c["init"], repo.rev_parse(f"{c['init']}^{{tree}}")),  # a claim
                signed_review(c["init"], repo.rev_parse(f"{c['init']}^{{tree}}")),
                forge_review(c["owners"], repo.rev_parse(f"{c['owners']}^{{tree}}")),
                deploy(c["merge"], "allow"),
                deploy(c["owners"], "deny"),  # refused: no deploy happened
            ]
        )
    policy = policy_file(tmp_path / "p", break_glass="erin")
    report = run_audit(AuditOptions(repo.path, policy=policy, ledger=url))
    rows = {r.commit: r for r in report.changes}
    unrev = rows[c["unrev"]]
    assert report.changes[0].commit == c["unrev"]  # exceptions first
    assert (unrev.verdict, unrev.break_glass, unrev.gate, unrev.merger) == (
        "allow",
        True,
        "allow",
        "erin",
    )
    assert ("BREAK_GLASS", "break-glass by erin: prod down") in unrev.findings
    rev = rows[c["rev"]]  # trailers do not count under this policy: the audit disagrees
    assert (rev.verdict, rev.gate, rev.merger) == ("deny", "allow", "bob")
    init = rows[c["init"]]
    assert init.verdict == "allow", (init.findings, init.approvers)
    assert [(a.who, a.trust, a.counted, a.source) for a in init.approvers] == [
        ("bob", "signed", True, "ledger entry 3")  # the unsigned claims at 2 and 4 count nothing
    ]
    assert [a.trust for a in rows[c["owners"]].approvers] == ["trailer"]  # not the claim
    deployed = Deployment("production", "dave", WHEN.isoformat(), "ledger deploy record")
    for label in ("merge", "self", "rev", "init"):
        assert rows[c[label]].deployments == (deployed,), label
        assert rows[c[label]].deployer == "dave (production)", label
    for label in ("owners", "kernel", "signed", "unrev"):
        assert rows[c[label]].deployments == (), label
    s = report.summary()
    assert (s["break_glass"], s["deployed"], s["gate_disagreements"]) == (1, 4, 1)
    header = render(report, ReportFormat.TEXT).splitlines()[0]  # issue 13: in the text too
    assert header.endswith(
        "gate disagreements 1 (the gate's recorded verdict differs from the audit's)"
    )
    assert 'id="gate-disagreements"><b>1</b>' in render(report, ReportFormat.HTML)
    [ledger_source] = [x for x in report.sources if x.startswith("ledger ")]
    assert (
        "7 entries; 2 gate decision(s) on this ref, 1 forge approval(s), 1 deploy(s), "
        "1 break-glass exception(s) with 0 review(s); verified; NOTHING PROVED: no signed "
        "checkpoint exists" in ledger_source
    )
    assert ledger_source.endswith(
        "; 2 approval claim(s) without a verifiable signature ignored (an entry anyone who "
        "can append could write)"
    )
    assert not any("deployer unknown" in x for x in report.sources)
    assert "forge data: 1 approval(s) recorded in the ledger, each signed and verified" in (
        report.sources
    )


def test_a_missing_ledger_is_a_usage_error(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "r")
    build_history(repo)
    with pytest.raises(UsageError, match="no ledger at"):
        run_audit(AuditOptions(repo.path, ledger=str(tmp_path / "nope.db")))
    assert not (tmp_path / "nope.db").exists()


def test_a_recorded_push_of_several_commits_is_one_change(tmp_path: Path) -> None:
    """The gate judged ``a..c`` (two commits) as one update: so does the audit."""
    repo = GitRepo.init(tmp_path / "r")
    a = repo.commit({"a.py": "a\n"}, "first\n\nReviewed-by: Bob Jones <bob@example.com>", ALICE)
    b = repo.commit({"b.py": "b\n"}, "second, unreviewed on its own", ALICE)
    c = repo.commit({"c.py": "c\n"}, "third\n\nReviewed-by: Carol White <carol@example.com>", BOB)
    url = f"sqlite://{tmp_path / 'ledger.db'}"
    with open_ledger(url) as ledger:
        ledger.append(
            [
                decision(b, "email:alice@example.com", "deny", old=a),  # refused alone
                decision(c, "email:bob@example.com", "allow", old=a),
                decision(c, "email:bob@example.com", "deny", old=a, door="ci-check"),  # advice
            ]
        )
    policy = policy_file(tmp_path / "p", accept="trailer")
    report = run_audit(AuditOptions(repo.path, policy=policy, ledger=url))
    try:
        assert [(r.commit, r.kind) for r in report.changes] == [
            (c, "push"),
            (a, "squash-or-direct"),
        ]
        push = report.changes[0]
        assert (push.verdict, push.gate, push.merger) == ("allow", "allow", "bob")
        assert push.authors == ("alice", "bob")  # b's author too: the push brought it
        assert push.files == 2  # b.py and c.py: the update's own diff
        assert [(x.who, x.counted) for x in push.approvers] == [("carol", True)]
    finally:
        report.close()


def test_a_recorded_old_off_the_first_parent_chain_is_judged_commit_by_commit(
    tmp_path: Path,
) -> None:
    repo = GitRepo.init(tmp_path / "r")
    a = repo.commit({"a.py": "a\n"}, "first", ALICE)
    c = repo.commit({"c.py": "c\n"}, "second", BOB)
    url = f"sqlite://{tmp_path / 'ledger.db'}"
    with open_ledger(url) as ledger:
        ledger.append([decision(c, "email:bob@example.com", "allow", old="1" * 40)])
    report = run_audit(AuditOptions(repo.path, ledger=url))
    try:
        assert [r.commit for r in report.changes] == [c, a]
    finally:
        report.close()


def test_a_break_glass_deploy_is_an_open_exception(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "r")
    a = repo.commit({"a.py": "a\n"}, "first", ALICE)
    body: dict[str, Any] = {
        "door": "deploy-check",
        "repository": "r",
        "environment": "production",
        "commit": a,
        "deployer": "email:dave@example.com",
        "decision": {
            "verdict": "allow",
            "break_glass": True,
            "findings": [{"code": "BREAK_GLASS", "message": "break-glass by dave: prod down"}],
        },
    }
    url = f"sqlite://{tmp_path / 'ledger.db'}"
    with open_ledger(url) as ledger:
        ledger.append([Entry(EntryKind.DEPLOY, body, WHEN)])
    report = run_audit(AuditOptions(repo.path, policy=policy_file(tmp_path / "p"), ledger=url))
    try:
        [exception] = report.exceptions
        assert (exception["kind"], exception["actor"], exception["reason"]) == (
            "deploy",
            "dave",
            "prod down",
        )
        assert exception["reviewed"] is False
        assert render(report, ReportFormat.JSON).count('"exceptions": [{') == 1
        text = render(report, ReportFormat.TEXT)
        assert "open exceptions 1" in text
        assert "OPEN EXCEPTION: break-glass deploy of" in text
        assert 'id="exceptions"' in render(report, ReportFormat.HTML)
    finally:
        report.close()
