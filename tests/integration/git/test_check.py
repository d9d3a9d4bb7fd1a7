"""``twokey check`` against real repositories, every output format and the failure modes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.integration.git._harness import NOW, REPOSITORY, Keys, policy_text
from tests.support.gitrepo import ALICE, ERIN, GitRepo, git_env
from twokey.cli import main
from twokey.evidence import GitEvidenceStore, sign_approval
from twokey.ledger import EntryKind, open_ledger, parse_entry


@pytest.fixture
def repo(tmp_path: Path, keys: Keys) -> GitRepo:
    """A CI checkout: main with the policy, ``feature`` with Alice's unapproved commit."""
    repo = GitRepo.init(tmp_path / "work")
    repo.commit({".twokey/policy.yml": policy_text(keys.public())}, "Policy", ERIN)
    repo.git("config", "twokey.repository", REPOSITORY)
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"app.py": "x\n"}, "Feature", ALICE)
    return repo


def _approve(repo: GitRepo, keys: Keys, who: str, rev: str = "feature") -> bytes:
    commit = repo.rev_parse(rev)
    return sign_approval(
        keys.signers[who],
        repository=REPOSITORY,
        ref="refs/heads/main",
        commit=commit,
        tree=repo.rev_parse(f"{rev}^{{tree}}"),
        when=NOW,
    )


def _check(repo: GitRepo, *extra: str) -> list[str]:
    return ["check", "--repo", str(repo.path), *extra]


BASE_HEAD = ("--base", "main", "--head", "feature", "--ref", "main")


def test_unapproved_change_is_denied_in_text(
    repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_check(repo, *BASE_HEAD)) == 1
    out = capsys.readouterr().out
    assert "DENY: refs/heads/main" in out
    assert "✗ INSUFFICIENT_APPROVALS: " in out
    assert "(policy: " in out


def test_approval_in_git_refs_allows(
    repo: GitRepo, keys: Keys, capsys: pytest.CaptureFixture[str]
) -> None:
    GitEvidenceStore(repo.path / ".git").put(_approve(repo, keys, "bob"), repo.rev_parse("feature"))
    assert main(_check(repo, *BASE_HEAD)) == 0
    assert "ALLOW: refs/heads/main" in capsys.readouterr().out


def test_the_decision_is_recorded_in_the_ledger_before_the_answer(
    repo: GitRepo, keys: Keys, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    GitEvidenceStore(repo.path / ".git").put(_approve(repo, keys, "bob"), repo.rev_parse("feature"))
    assert main(_check(repo, *BASE_HEAD, "--ledger", ledger, "--pusher", "alice@example.com")) == 0
    with open_ledger(ledger) as log:
        entries = [parse_entry(data) for _, data in log.entries()]
    [entry] = entries
    assert entry.kind is EntryKind.DECISION
    assert entry.body["door"] == "ci-check"
    assert entry.body["new"] == repo.rev_parse("feature")
    assert entry.body["pusher"] == "email:alice@example.com"
    assert entry.body["decision"]["verdict"] == "allow"
    assert "ALLOW: refs/heads/main" in capsys.readouterr().out


def test_a_ledger_that_cannot_be_written_is_a_deny(
    repo: GitRepo, keys: Keys, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    GitEvidenceStore(repo.path / ".git").put(_approve(repo, keys, "bob"), repo.rev_parse("feature"))
    (tmp_path / "a-file").write_text("not a directory\n")
    unwritable = f"sqlite:///{tmp_path / 'a-file' / 'ledger.db'}"
    assert main(_check(repo, *BASE_HEAD, "--ledger", unwritable)) == 3
    out = capsys.readouterr().out
    assert "DENY: refs/heads/main" in out
    assert "✗ INTERNAL_ERROR: cannot write the ledger" in out


def test_approval_from_an_evidence_file_allows(
    repo: GitRepo, keys: Keys, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "evidence"
    folder.mkdir()
    (folder / "bob.json").write_bytes(_approve(repo, keys, "bob"))
    assert main(_check(repo, *BASE_HEAD, "--evidence", str(folder), "--explain")) == 0
    out = capsys.readouterr().out
    assert "ALLOW: refs/heads/main" in out
    assert "bob" in out  # --explain names who counted (the engine's explain)


def test_old_new_mode_and_json(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = repo.rev_parse("main"), repo.rev_parse("feature")
    args = ("--ref", "refs/heads/main", "--old", old, "--new", new, "--format", "json")
    assert main(_check(repo, *args)) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["allowed"] is False
    assert data["repository"] == REPOSITORY
    decision = data["decisions"][0]
    assert decision["update"] == {"ref": "refs/heads/main", "old": old, "new": new}
    assert [f["code"] for f in decision["findings"]] == ["INSUFFICIENT_APPROVALS"]


def test_sarif(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_check(repo, *BASE_HEAD, "--format", "sarif")) == 1
    sarif = json.loads(capsys.readouterr().out)
    assert sarif["version"] == "2.1.0"
    (result,) = sarif["runs"][0]["results"]
    assert result["ruleId"] == "INSUFFICIENT_APPROVALS"
    assert result["level"] == "error"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] > 1
    assert sarif["runs"][0]["tool"]["driver"]["rules"][0]["id"] == "INSUFFICIENT_APPROVALS"


def test_junit(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_check(repo, *BASE_HEAD, "--format", "junit")) == 1
    root = ET.fromstring(capsys.readouterr().out)
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("failures") == "1"
    failure = suite.find("testcase/failure")
    assert failure is not None
    assert failure.get("type") == "INSUFFICIENT_APPROVALS"


def test_github_annotations_when_running_in_actions(
    repo: GitRepo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_ACTOR", "alice")
    assert main(_check(repo, *BASE_HEAD, "--format", "json")) == 1
    captured = capsys.readouterr()
    json.loads(captured.out)  # stdout stays machine-readable
    assert "::error file=.twokey/policy.yml,line=" in captured.err
    assert "title=INSUFFICIENT_APPROVALS::refs/heads/main" in captured.err


def test_the_head_cannot_loosen_its_own_policy(
    repo: GitRepo, keys: Keys, capsys: pytest.CaptureFixture[str]
) -> None:
    loose = policy_text(keys.public(), main_approvals=0)
    repo.commit({".twokey/policy.yml": loose}, "Loosen", ALICE)
    assert main(_check(repo, *BASE_HEAD)) == 1
    out = capsys.readouterr().out
    assert "POLICY_CHANGE_UNAPPROVED" in out
    assert "INSUFFICIENT_APPROVALS" in out


def test_missing_policy_at_the_base_denies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = GitRepo.init(tmp_path / "bare-policy")
    repo.commit({"a.md": "a\n"}, "No policy", ALICE)
    repo.commit({"b.md": "b\n"}, "More", ALICE)
    assert main(_check(repo, "--base", "HEAD~1", "--head", "HEAD", "--ref", "main")) == 1
    assert "✗ MALFORMED_INPUT: no policy on " in capsys.readouterr().out


def test_invalid_policy_file_is_a_usage_error(
    repo: GitRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("version: 1\nwhat: ever\n")
    assert main(_check(repo, *BASE_HEAD, "--policy", str(bad))) == 2
    assert str(bad) in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give either --base and --head, or --ref with --old and --new"),
        (("--base", "main", "--ref", "main"), "--base needs --head"),
        (("--base", "main", "--head", "feature"), "name the ref that would move"),
        (("--base", "nope", "--head", "feature", "--ref", "main"), "unknown revision 'nope'"),
    ],
    ids=["nothing", "half", "no-ref", "bad-rev"],
)
def test_usage_errors(
    repo: GitRepo,
    args: tuple[str, ...],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GITHUB_BASE_REF", raising=False)
    assert main(_check(repo, *args)) == 2
    assert message in capsys.readouterr().err


def _clone(source: GitRepo, dest: Path, *flags: str) -> GitRepo:
    url = f"file://{source.path}"
    subprocess.run(["git", "clone", "-q", *flags, url, str(dest)], check=True, env=git_env())
    return GitRepo(dest)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--depth=1", "--no-single-branch"), "this is a shallow clone"),
        (("--filter=blob:none", "--no-checkout"), "this is a partial clone"),
    ],
    ids=["shallow", "partial"],
)
def test_incomplete_clones_are_internal_errors(
    repo: GitRepo,
    tmp_path: Path,
    flags: tuple[str, ...],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo.git("config", "uploadpack.allowFilter", "true")
    clone = _clone(repo, tmp_path / "ci", *flags)
    args = ("--base", "origin/main", "--head", "origin/feature", "--ref", "main")
    assert main(_check(clone, *args)) == 3
    assert message in capsys.readouterr().err
