"""The audit on a real repository, asserted change by change (see support.build_history)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.integration.audit.support import build_history, policy_file
from tests.support.gitrepo import GitRepo
from twokey.audit import AuditChange, AuditOptions, AuditReport, ReportFormat, render, run_audit

TRAILER, SIGNED = "trailer", "signed"
NO_APPROVAL = "INSUFFICIENT_APPROVALS"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, dict[str, str], Path]:
    root = tmp_path_factory.mktemp("audit")
    repo = GitRepo.init(root / "r")
    return repo, build_history(repo), root


def by_label(report: AuditReport, commits: dict[str, str]) -> dict[str, AuditChange]:
    rows = {row.commit: row for row in report.changes}
    assert set(rows) == set(commits.values())  # every landed change once, nothing else
    return {label: rows[sha] for label, sha in commits.items()}


def shape(row: AuditChange) -> tuple[object, ...]:
    return (
        row.verdict,
        row.kind,
        row.authors,
        row.merger,
        [(a.who, a.trust, a.counted) for a in row.approvers],
        sorted({code for code, _ in row.findings}),
    )


DEFAULT_EXPECTED = {
    "init": ("deny", "squash-or-direct", ("alice",), "alice", [], [NO_APPROVAL]),
    "rev": ("allow", "squash-or-direct", ("alice",), "alice", [("bob", TRAILER, True)], []),
    # alice's second email is another provisional person until confirmed: a signal, below
    "self": ("allow", "squash-or-direct", ("alice",), "alice", [("alice-2", TRAILER, True)], []),
    "merge": ("allow", "merge", ("carol",), "bob", [("bob", TRAILER, True)], []),
    "unrev": ("deny", "squash-or-direct", ("bob",), "bob", [], [NO_APPROVAL]),
    # no policy, no keys: the signed approval cannot name anyone (listed as refused)
    "signed": ("deny", "squash-or-direct", ("carol",), "carol", [], [NO_APPROVAL]),
    # a trailer on the merged head of a clean merge covers the merge (same rule as signed)
    "kernel": ("allow", "merge", ("dave",), "dave", [("carol", TRAILER, True)], []),
    "owners": ("allow", "squash-or-direct", ("erin",), "erin", [("bob", TRAILER, True)], []),
}


@pytest.fixture(scope="module")
def default_report(world: tuple[GitRepo, dict[str, str], Path]) -> dict[str, AuditChange]:
    repo, commits, _ = world
    return by_label(run_audit(AuditOptions(repo.path)), commits)


@pytest.mark.parametrize("label", list(DEFAULT_EXPECTED), ids=list(DEFAULT_EXPECTED))
def test_default_policy_change_by_change(
    default_report: dict[str, AuditChange], label: str
) -> None:
    assert shape(default_report[label]) == DEFAULT_EXPECTED[label]


def test_default_report_totals_order_and_statement(
    world: tuple[GitRepo, dict[str, str], Path],
) -> None:
    repo, c, _ = world
    report = run_audit(AuditOptions(repo.path))
    s = report.summary()
    assert (s["changes"], s["violations"], s["reviewed"], s["break_glass"]) == (8, 3, 5, 0)
    assert s["by_month"] == {
        "2026-03": {"changes": 7, "reviewed": 4, "violations": 3},
        "2026-04": {"changes": 1, "reviewed": 1, "violations": 0},
    }
    assert s["by_finding"] == {NO_APPROVAL: 3}
    # violations first, each section newest first
    assert [r.commit for r in report.changes][:3] == [c["signed"], c["unrev"], c["init"]]
    assert report.policy["default"] is True
    assert report.policy["source"].startswith("default: one approval by someone other than")
    assert any(s.startswith("commit-message trailers") for s in report.sources)
    assert any("1 refused (no policy, so no keys" in s for s in report.sources)
    assert any("deployer unknown" in s for s in report.sources)
    assert any(s.startswith("forge data:") and "not deployed" in s for s in report.sources)


def test_default_report_signals(world: tuple[GitRepo, dict[str, str], Path]) -> None:
    repo, c, _ = world
    signals = {s.kind: s for s in run_audit(AuditOptions(repo.path)).signals}
    assert set(signals) == {"probable-self-approval", "self-merge", "self-claimed-trailer-review"}
    claimed = signals["self-claimed-trailer-review"]  # rev, self, owners; kernel (dave's merge)
    assert claimed.message.startswith("4 of 5 reviewed change(s)")
    assert set(claimed.commits) == {c["rev"], c["self"], c["owners"], c["kernel"]}
    alias = signals["probable-self-approval"]
    assert alias.people == ("alice@home.example", "alice@example.com")
    assert alias.commits == (c["self"],)
    merge = signals["self-merge"]  # dave merged his own topic; bob merged carol's
    assert (merge.people, merge.commits) == (("dave",), (c["kernel"],))
    assert merge.message.startswith("1 of 8 changes were merged")


def test_a_confirmed_alias_makes_the_self_review_a_violation(
    world: tuple[GitRepo, dict[str, str], Path],
) -> None:
    repo, c, _ = world
    confirmed = {"alice@home.example": "alice@example.com"}
    row = by_label(run_audit(AuditOptions(repo.path, identities=confirmed)), c)["self"]
    assert shape(row) == (
        "deny",
        "squash-or-direct",
        ("alice",),
        "alice",
        [("alice", TRAILER, False)],
        [NO_APPROVAL, "SELF_APPROVAL"],
    )
    assert f"alice is an author of {c['self'][:7]}" in dict(row.findings)["SELF_APPROVAL"]


def test_a_policy_that_refuses_trailers_counts_only_signed_evidence(
    world: tuple[GitRepo, dict[str, str], Path],
) -> None:
    repo, c, root = world
    report = run_audit(AuditOptions(repo.path, policy=policy_file(root / "strict")))
    rows = by_label(report, c)
    assert shape(rows["signed"]) == (
        "allow",
        "squash-or-direct",
        ("carol",),
        "carol",
        [("bob", SIGNED, True)],
        [],
    )
    assert rows["signed"].approvers[0].source == "twokey evidence ref"
    assert rows["signed"].approvers[0].time == "2026-03-07T11:00:00+00:00"
    for label in ("rev", "merge", "kernel"):  # listed, not counted, and said so
        row = rows[label]
        assert row.verdict == "deny", label
        assert [a.counted for a in row.approvers] == [False], label
        assert {code for code, _ in row.findings} == {NO_APPROVAL, "UNTRUSTED_EVIDENCE"}, label
    assert report.policy == {
        "source": str(root / "strict" / "policy.yml"),
        "digest": report.policy["digest"],
        "default": False,
    }
    assert report.policy["digest"].startswith("sha256:")


def test_owner_rules_see_the_changed_paths(world: tuple[GitRepo, dict[str, str], Path]) -> None:
    repo, c, root = world
    policy = policy_file(root / "owners", accept="signed, trailer", owners=True)
    rows = by_label(run_audit(AuditOptions(repo.path, policy=policy)), c)
    owners = rows["owners"]
    assert (owners.verdict, owners.files) == ("deny", 1)
    assert owners.findings == (
        (
            "OWNER_APPROVAL_MISSING",
            "refs/heads/main (deploy/**: deploy/app.yml) needs 1 approval(s) from carol; 0 counted",
        ),
    )
    assert (rows["rev"].verdict, rows["kernel"].files) == ("allow", 2)


@pytest.mark.parametrize(("variant"), ["default", "identities", "strict", "owners"], ids=str)
def test_the_memo_gives_the_engines_own_answers(
    world: tuple[GitRepo, dict[str, str], Path], variant: str
) -> None:
    repo, _, root = world
    options = {
        "default": AuditOptions(repo.path),
        "identities": AuditOptions(
            repo.path, identities={"alice@home.example": "alice@example.com"}
        ),
        "strict": AuditOptions(repo.path, policy=policy_file(root / "memo-strict")),
        "owners": AuditOptions(
            repo.path, policy=policy_file(root / "memo-owners", accept="trailer", owners=True)
        ),
    }[variant]
    fast = run_audit(options)
    slow = run_audit(options, memo=False)
    assert [c.to_dict() for c in fast.changes] == [c.to_dict() for c in slow.changes]
    assert fast.summary() == slow.summary()
    assert render(fast, ReportFormat.JSON) == render(slow, ReportFormat.JSON)


def test_the_period_selects_changes_by_commit_date(
    world: tuple[GitRepo, dict[str, str], Path],
) -> None:
    repo, c, _ = world
    report = run_audit(AuditOptions(repo.path, since="2026-03-05T12:00:00Z", until="2026-03-31"))
    assert {r.commit for r in report.changes} == {c["unrev"], c["signed"], c["kernel"]}
    assert report.to_dict()["period"] == {"since": "2026-03-05T12:00:00Z", "until": "2026-03-31"}


def test_json_report(world: tuple[GitRepo, dict[str, str], Path]) -> None:
    repo, c, _ = world
    report = run_audit(AuditOptions(repo.path))
    text = render(report, ReportFormat.JSON)
    data = json.loads(text)
    assert data == json.loads(json.dumps(report.to_dict()))
    assert list(data) == sorted(data)
    assert {"changes", "summary", "sources", "policy", "signals", "period", "version"} <= set(data)
    first = data["changes"][0]
    assert first == {
        "approvers": [],
        "authors": ["carol"],
        "break_glass": False,
        "commit": c["signed"],
        "deployer": None,
        "deployments": [],
        "files": None,
        "findings": [
            {
                "code": NO_APPROVAL,
                "message": "refs/heads/main needs 1 approval(s) from everyone; 0 counted",
            }
        ],
        "gate": None,
        "kind": "squash-or-direct",
        "merger": "carol",
        "resolutions": [],
        "subject": "feature e",
        "time": "2026-03-07T10:00:00+00:00",
        "verdict": "deny",
    }
    lines = text.splitlines()  # one change per line, then one line per other key
    assert [json.loads(line.rstrip(",")) for line in lines[1:9]] == data["changes"]
    assert (lines[0], lines[9], len(lines)) == ('{"changes": [', "],", 10 + len(data) - 1)


def test_csv_text_and_html_reports(world: tuple[GitRepo, dict[str, str], Path]) -> None:
    repo, c, _ = world
    report = run_audit(AuditOptions(repo.path))
    rows = list(csv.DictReader(io.StringIO(render(report, ReportFormat.CSV))))
    assert [r["commit"] for r in rows] == [r.commit for r in report.changes]
    merge = next(r for r in rows if r["commit"] == c["merge"])
    assert (merge["authors"], merge["merger"], merge["verdict"]) == ("carol", "bob", "allow")
    assert merge["approvers"] == "bob (trailer:Acked-by, trailer)"
    text = render(report, ReportFormat.TEXT)
    # the header names the repository audited on disk, and its id (issue 13, item 3)
    assert text.startswith(
        f"audit of {repo.path.resolve()} (repository r) refs/heads/main: 8 changes, "
        "3 violations, reviewed 62%"
    )
    assert f"DENY  {c['signed'][:10]} 2026-03-07 feature e" in text
    html = render(report, ReportFormat.HTML)
    assert "<script" not in html
    assert "http://" not in html
    assert "https://" not in html  # self-contained: nothing to fetch
    assert html.count("<svg") == 2
    assert "No policy file was given: the default policy" in html
    assert report.policy["digest"] in html
    assert f"{repo.path.resolve()} (repository r)" in html


def test_html_escapes_what_the_repository_wrote(tmp_path: Path) -> None:
    from tests.support.gitrepo import ALICE  # noqa: PLC0415

    repo = GitRepo.init(tmp_path / "r")
    repo.commit({"a": "1\n"}, "<script>alert(1)</script> & [bold]x[/]", ALICE)
    html = render(run_audit(AuditOptions(repo.path)), ReportFormat.HTML)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; [bold]x[/]" in html
