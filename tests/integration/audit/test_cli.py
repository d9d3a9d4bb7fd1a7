"""``twokey audit`` on the command line: exit codes, formats, identities."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.audit.support import build_history
from tests.support.gitrepo import GitRepo
from twokey.cli import main


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = GitRepo.init(tmp_path_factory.mktemp("cli") / "r")
    build_history(repo)
    return repo.path


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        ([], 0),
        (["--fail-on-violation"], 1),
        (["--since", "2026-04-01", "--fail-on-violation"], 0),
        (["--ref", "refs/heads/nope"], 2),
        (["--format", "pdf"], 2),
        (["--policy", "/nonexistent/policy.yml"], 2),
        (["--ledger", "/nonexistent/ledger.db"], 2),
    ],
    ids=[
        "report",
        "fail-on-violation",
        "clean-period",
        "unknown-ref",
        "bad-format",
        "missing-policy",
        "missing-ledger",
    ],
)
def test_exit_codes(repo: Path, argv: list[str], code: int) -> None:
    assert main(["audit", "--repo", str(repo), *argv]) == code


def test_json_to_a_file(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "audit.json"
    assert main(["audit", "--repo", str(repo), "--format", "json", "--output", str(out)]) == 0
    assert capsys.readouterr().err == f"wrote {out}: 8 changes, 3 violations\n"
    data = json.loads(out.read_text())
    assert (data["summary"]["changes"], data["ref"]) == (8, "refs/heads/main")


def test_errors_say_why(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--repo", str(repo), "--ref", "nope"]) == 2
    assert "refs/heads/nope does not exist" in capsys.readouterr().err


def test_identities_lists_probable_aliases(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "identities", "--repo", str(repo), "--format", "json"]) == 0
    groups = json.loads(capsys.readouterr().out)
    assert groups == [
        {
            "emails": ["alice@example.com", "alice@home.example"],
            "names": ["Alice Smith"],
            "reason": "same name, several emails",
        }
    ]
    assert main(["audit", "identities", "--repo", str(repo)]) == 0
    assert capsys.readouterr().out.endswith(
        "1 probable alias group(s); confirm them into the "
        "policy's people (emails:) or pass --identities FILE\n"
    )


def test_confirmed_identities_file(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    confirmed = tmp_path / "ids.json"
    confirmed.write_text(json.dumps({"alice@home.example": "alice@example.com"}))
    argv = ["audit", "--repo", str(repo), "--identities", str(confirmed), "--format", "json"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["violations"] == 4
    confirmed.write_text("[1, 2]")
    assert main(argv) == 2
    assert "expected a JSON object of email -> canonical email" in capsys.readouterr().err
