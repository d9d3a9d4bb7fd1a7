"""The audit on real repositories, asserted change by change."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.support.gitrepo import ALICE, BOB, CAROL, GitRepo, Person
from twokey.audit import AuditOptions, ReportFormat, render, run_audit
from twokey.audit._identities import probable_aliases
from twokey.evidence import Ed25519Signer, GitEvidenceStore, sign_approval


def key_of(name: str) -> Ed25519PrivateKey:
    """The deterministic key the engine tests' policy registers for ``name``."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"{name}/0".encode()).digest())


ALICE_HOME = Person("Alice Smith", "alice@home.example")
T = "2026-03-{:02d}T10:00:00+00:00"


def _history(repo: GitRepo) -> dict[str, str]:
    """A small history with every kind of change; returns label -> landing commit."""
    c: dict[str, str] = {}
    c["init"] = repo.commit({"README": "x\n"}, "init", ALICE, when=T.format(1))
    c["reviewed"] = repo.commit(
        {"a.py": "1\n"},
        "feature a\n\nReviewed-by: Bob Jones <bob@example.com>",
        ALICE,
        when=T.format(2),
    )
    c["self-reviewed"] = repo.commit(
        {"b.py": "2\n"},
        "feature b\n\nReviewed-by: Alice Smith <alice@home.example>",
        ALICE,
        when=T.format(3),
    )
    repo.git("checkout", "-q", "-b", "topic")
    repo.commit({"c.py": "3\n"}, "topic work", CAROL, when=T.format(4))
    repo.git("checkout", "-q", "main")
    repo.git(
        "merge",
        "-q",
        "--no-ff",
        "topic",
        "-m",
        "Merge topic\n\nAcked-by: Bob Jones <bob@example.com>",
        person=BOB,
        when=T.format(5),
    )
    c["merge"] = repo.rev_parse("HEAD")
    c["unreviewed"] = repo.commit({"d.py": "4\n"}, "hotfix", BOB, when=T.format(6))
    c["signed"] = repo.commit({"e.py": "5\n"}, "feature e", CAROL, when=T.format(7))
    return c


@pytest.fixture
def repo(tmp_path: Path) -> tuple[GitRepo, dict[str, str]]:
    repo = GitRepo.init(tmp_path / "r")
    commits = _history(repo)
    envelope = sign_approval(
        Ed25519Signer(key_of("bob")),
        repository="r",
        ref="refs/heads/main",
        commit=commits["signed"],
        tree=repo.rev_parse(f"{commits['signed']}^{{tree}}"),
        when=__import__("datetime").datetime(2026, 3, 7, 11, tzinfo=__import__("datetime").UTC),
    )
    GitEvidenceStore(repo.path / ".git").put(envelope, commits["signed"])
    return repo, commits


def test_default_policy_change_by_change(repo: tuple[GitRepo, dict[str, str]]) -> None:
    git_repo, c = repo
    report = run_audit(
        AuditOptions(git_repo.path, identities={"alice@home.example": "alice@example.com"})
    )
    by = {ch.commit: ch for ch in report.changes}
    assert len(report.changes) == 6  # the merge counts once; the topic commit is inside it
    assert by[c["reviewed"]].verdict == "allow"
    assert [(a.who, a.trust, a.counted) for a in by[c["reviewed"]].approvers] == [
        ("bob", "trailer", True)
    ]
    selfr = by[c["self-reviewed"]]
    assert selfr.verdict == "deny"
    assert "SELF_APPROVAL" in {code for code, _ in selfr.findings}
    merge = by[c["merge"]]
    assert (merge.kind, merge.verdict, merge.authors, merge.merger) == (
        "merge",
        "allow",
        ("carol",),
        "bob",
    )
    assert by[c["unreviewed"]].verdict == "deny"
    assert "INSUFFICIENT_APPROVALS" in {code for code, _ in by[c["unreviewed"]].findings}
    assert by[c["init"]].verdict == "deny"
    # without a policy nobody's key is known, so the signed approval cannot name a person
    assert by[c["signed"]].verdict == "deny"
    summary = report.summary()
    assert (summary["changes"], summary["violations"]) == (6, 4)
    assert report.policy["default"] is True
    assert any("trailers" in s for s in report.sources)


def test_signed_evidence_counts_with_a_policy_that_refuses_trailers(
    repo: tuple[GitRepo, dict[str, str]], tmp_path: Path
) -> None:
    from tests.unit.engine.world import public_key  # noqa: PLC0415

    git_repo, c = repo
    policy = tmp_path / "policy.yml"
    policy.write_text(
        "version: 1\npeople:\n"
        "  alice: {emails: [alice@example.com, alice@home.example]}\n"
        f'  bob: {{emails: [bob@example.com], keys: ["{public_key("bob")}"]}}\n'
        "  carol: {emails: [carol@example.com]}\n"
        "groups:\n  reviewers: [alice, bob, carol]\n"
        "branches:\n  main: {approvals: 1, approvers: [reviewers]}\n"
        "policy_changes: {approvals: 1, approvers: [reviewers]}\n"
    )
    report = run_audit(AuditOptions(git_repo.path, policy=policy))
    by = {ch.commit: ch for ch in report.changes}
    assert by[c["signed"]].verdict == "allow"
    assert [(a.who, a.trust) for a in by[c["signed"]].approvers] == [("bob", "signed")]
    reviewed = by[c["reviewed"]]
    assert reviewed.verdict == "deny"  # a trailer claim is not enough under this policy
    assert "UNTRUSTED_EVIDENCE" in {code for code, _ in reviewed.findings}


def test_a_second_email_of_the_author_is_flagged(repo: tuple[GitRepo, dict[str, str]]) -> None:
    git_repo, c = repo
    report = run_audit(AuditOptions(git_repo.path))  # no identities confirmed
    assert {ch.commit: ch.verdict for ch in report.changes}[c["self-reviewed"]] == "allow"
    [signal] = [s for s in report.signals if s.kind == "probable-self-approval"]
    assert c["self-reviewed"][:10] in signal.message
    assert signal.people == ("alice@home.example",)


def test_renderers(repo: tuple[GitRepo, dict[str, str]]) -> None:
    git_repo, c = repo
    report = run_audit(AuditOptions(git_repo.path))
    data = json.loads(render(report, ReportFormat.JSON))
    assert set(data) >= {"changes", "summary", "sources", "policy"}
    assert data["changes"][0]["verdict"] == "deny"  # violations first
    assert {"commit", "time", "authors", "approvers", "verdict", "findings"} <= set(
        data["changes"][0]
    )
    rows = list(csv.DictReader(io.StringIO(render(report, ReportFormat.CSV))))
    assert len(rows) == 6
    html = render(report, ReportFormat.HTML)
    assert "<svg" in html
    assert "http" not in html.replace("https://in-toto", "")  # self-contained: no network
    assert "Reviewed-change rate" in html
    assert c["merge"][:10] in render(report, ReportFormat.TEXT)


def test_probable_aliases() -> None:
    groups = probable_aliases(
        [
            ("Alice Smith", "alice@example.com"),
            ("Alice  Smith", "ALICE@home.example"),
            ("Bob", "bob@example.com"),
            ("bob", "bob@corp.example"),
            ("B", "123+bob@users.noreply.github.com"),
        ]
    )
    reasons = {(g.emails, g.reason) for g in groups}
    assert (("alice@example.com", "alice@home.example"), "same name, several emails") in reasons
    assert any(
        g.reason == "same local part across domains"
        and "123+bob@users.noreply.github.com" in g.emails
        for g in groups
    )
