"""Mailing-list workflows: a maintainer who applied a contributor's patch (``git am``) is the
second person, as evidence kind ``applied``, where the policy counts it (``count_applied``).

A real history: contributors send patches made by ``git format-patch``; the maintainer applies
them with ``git am`` (author: the contributor, committer: the maintainer). The gate (``twokey
check``, reading the repository's own policy) and the audit judge every change alike.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.gitrepo import ALICE, BOB, CAROL, GitRepo, Person
from twokey.audit import AuditOptions, ReportFormat, render, run_audit
from twokey.cli import main

ALICE_HOME = Person("Alice Smith", "alice@home.example")
RULE = "{approvals: 1, approvers: [maintainers], accept: [signed, forge, trailer]%s}"
POLICY = """\
version: 1
people:
  alice: {emails: [alice@example.com, alice@home.example]}
  bob: {emails: [bob@example.com]}
  carol: {emails: [carol@example.com]}
groups:
  maintainers: [alice, bob]
branches:
  main: %s
policy_changes: {approvals: 1, approvers: [maintainers]}
"""


def policy(count_applied: bool) -> str:
    return POLICY % (RULE % (", count_applied: true" if count_applied else ""))


def _apply(
    maintainer: GitRepo,
    contributor: GitRepo,
    author: Person,
    name: str,
    applier: Person = BOB,
    path: str = "",
) -> str:
    """``author`` commits a patch in their clone (to ``path``, default ``NAME.c``), mails it
    (format-patch); ``applier`` lands it in the maintainer's repository with ``git am``."""
    contributor.git("fetch", "-q", "origin")
    contributor.git("reset", "-q", "--hard", "origin/main")
    contributor.commit({path or f"{name}.c": f"int {name};\n"}, f"Add {name}", author)
    patch = contributor.git("format-patch", "-1", "--stdout")
    maintainer.git("am", "-q", person=applier, input=patch + "\n")
    return maintainer.rev_parse("HEAD")


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, dict[str, str]]:
    root = tmp_path_factory.mktemp("applied")
    repo = GitRepo.init(root / "maintainer")
    c = {"policy": repo.commit({".twokey/policy.yml": policy(True)}, "Policy", BOB)}
    clone = GitRepo(root / "contributor")
    repo.clone(clone.path)
    c["carol"] = _apply(repo, clone, CAROL, "carol")  # applied by bob
    c["alice"] = _apply(repo, clone, ALICE_HOME, "alias", ALICE)  # her own, another email
    assert repo.git("log", "-1", "--format=%ae %ce") == "alice@home.example alice@example.com"
    c["bob"] = repo.commit({"bob.c": "int bob;\n"}, "Bob's own", BOB)  # not applied
    return repo, c


def _rows(repo: GitRepo, policy_file: Path | None = None) -> dict[str, dict[str, Any]]:
    report = run_audit(AuditOptions(repo.path, policy=policy_file))
    try:
        return {r["commit"]: r for r in json.loads(render(report, ReportFormat.JSON))["changes"]}
    finally:
        report.close()


def _gate(repo: GitRepo, commit: str, capsys: pytest.CaptureFixture[str]) -> str:
    argv = ["check", "--repo", str(repo.path), "--base", f"{commit}^", "--head", commit]
    code = main([*argv, "--ref", "main", "--format", "json"])
    out = capsys.readouterr().out
    assert code in (0, 1), out
    return "deny" if code else "allow"


def test_the_maintainer_who_applied_counts_where_the_policy_says_so(
    history: tuple[GitRepo, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, c = history
    rows = _rows(repo)  # the repository's own policy: count_applied
    carol = rows[c["carol"]]
    assert carol["verdict"] == "allow"
    assert carol["approvers"] == [
        {"who": "bob", "source": "applied", "trust": "trailer", "counted": True, "time": None}
    ]
    assert rows[c["alice"]]["verdict"] == "deny"  # she applied her own patch (another email)
    (alice,) = rows[c["alice"]]["approvers"]
    assert (alice["who"], alice["source"], alice["counted"]) == ("alice", "applied", False)
    assert "SELF_APPROVAL" in {f["code"] for f in rows[c["alice"]]["findings"]}
    assert (rows[c["bob"]]["verdict"], rows[c["bob"]]["approvers"]) == ("deny", [])
    gate = {k: _gate(repo, c[k], capsys) for k in ("carol", "alice", "bob")}
    assert gate == {k: rows[c[k]]["verdict"] for k in gate}
    assert gate == {"carol": "allow", "alice": "deny", "bob": "deny"}


def test_without_count_applied_applying_is_no_approval(
    history: tuple[GitRepo, dict[str, str]], tmp_path: Path
) -> None:
    repo, c = history
    strict = tmp_path / "policy.yml"
    strict.write_text(policy(False))
    rows = _rows(repo, strict)
    carol = rows[c["carol"]]
    assert (carol["verdict"], carol["approvers"]) == ("deny", [])
    assert "INSUFFICIENT_APPROVALS" in {f["code"] for f in carol["findings"]}


def test_text_report_names_the_evidence(history: tuple[GitRepo, dict[str, str]]) -> None:
    repo, _ = history
    report = run_audit(AuditOptions(repo.path))
    try:
        text = render(report, ReportFormat.TEXT)
    finally:
        report.close()
    assert "approvers: alice <alice@example.com> (applied, trailer, not counted)" in text
    assert (
        "source: applied patches (git am: the committer is not the author): the committer as "
        "approver (trust: trailer, an unverified claim), counted where the rule says "
        "count_applied"
    ) in text.splitlines()


@pytest.fixture(scope="module")
def switched(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, list[str], list[str]]:
    """The repository's own policy gains count_applied half-way: patches applied before are
    violations, after it allowed; enough alike that the audit's fast lane writes most rows."""
    root = tmp_path_factory.mktemp("switched")
    repo = GitRepo.init(root / "maintainer")
    repo.commit({".twokey/policy.yml": policy(False)}, "Policy", BOB)
    clone = GitRepo(root / "contributor")
    repo.clone(clone.path)
    before = [_apply(repo, clone, CAROL, f"before{i}", path="patch.c") for i in range(4)]
    text = policy(True)
    repo.commit(
        {".twokey/policy.yml": text}, "Count applied\n\nReviewed-by: <alice@example.com>", BOB
    )
    after = [_apply(repo, clone, CAROL, f"after{i}", path="patch.c") for i in range(4)]
    return repo, before, after


def test_the_fast_lane_reads_applied_evidence_as_the_engine_does(
    switched: tuple[GitRepo, list[str], list[str]],
) -> None:
    repo, before, after = switched
    fast = run_audit(AuditOptions(repo.path))
    slow = run_audit(AuditOptions(repo.path), memo=False)
    try:
        assert fast.fast_rows >= 4  # the lane wrote rows on both sides of the switch
        assert render(fast, ReportFormat.JSON) == render(slow, ReportFormat.JSON)
        verdicts = {row.commit: row.verdict for row in fast.changes}
    finally:
        fast.close()
        slow.close()
    assert [verdicts[c] for c in before] == ["deny"] * 4
    assert [verdicts[c] for c in after] == ["allow"] * 4
