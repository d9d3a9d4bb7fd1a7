"""The text report lists what needs a reader by default (issue 13, item 4).

On the real history of ``support.build_history`` (eight changes, three violations): the text
report lists the violations after a summary and says how many allowed changes it leaves out;
``--all`` lists every change; JSON, CSV and HTML hold every change either way; ids the audit
invented are shown with the emails they stand for.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.integration.audit.support import build_history
from tests.support.gitrepo import GitRepo
from twokey.cli import main


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, dict[str, str]]:
    repo = GitRepo.init(tmp_path_factory.mktemp("noise") / "r")
    return repo, build_history(repo)


def _audit(repo: GitRepo, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    assert main(["audit", "--repo", str(repo.path), *extra]) == 0
    return capsys.readouterr().out


def test_text_lists_violations_only_with_a_summary(
    history: tuple[GitRepo, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, c = history
    out = _audit(repo, capsys)
    rows = [line for line in out.splitlines() if line.startswith(("DENY ", "allow "))]
    assert sorted(line.split()[1] for line in rows) == sorted(
        c[label][:10] for label in ("init", "unrev", "signed")
    )
    assert all(line.startswith("DENY ") for line in rows)
    assert "violations by finding: INSUFFICIENT_APPROVALS 3" in out
    assert (
        "listed below: 0 break-glass change(s) and 3 violation(s); 5 allowed change(s) not "
        "listed (--all lists every change" in out
    )


def test_all_lists_every_change(
    history: tuple[GitRepo, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, c = history
    out = _audit(repo, capsys, "--all")
    listed = {line.split()[1] for line in out.splitlines() if line.startswith(("DENY", "allow"))}
    assert listed == {sha[:10] for sha in c.values()}
    assert "not listed" not in out


@pytest.mark.parametrize("fmt", ["json", "csv", "html"])
def test_the_other_formats_hold_every_change(
    history: tuple[GitRepo, dict[str, str]], capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    repo, c = history
    out = _audit(repo, capsys, "--format", fmt)
    if fmt == "json":
        commits = {row["commit"] for row in json.loads(out)["changes"]}
    elif fmt == "csv":
        commits = {row["commit"] for row in csv.DictReader(io.StringIO(out))}
    else:
        commits = {sha for sha in c.values() if sha[:10] in out}
    assert commits == set(c.values())


def test_invented_ids_come_with_their_emails(
    history: tuple[GitRepo, dict[str, str]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo, c = history
    out = _audit(repo, capsys, "--all")
    # alice's second email is another provisional person: the reader sees which email it is
    self_line = next(
        line
        for n, line in enumerate(out.splitlines())
        if out.splitlines()[n - 1][6:16] == c["self"][:10]
    )
    assert "authors: alice <alice@example.com>" in self_line
    assert "approvers: alice-2 <alice@home.example> (trailer:Reviewed-by" in self_line
    data = json.loads(_audit(repo, capsys, "--format", "json"))
    assert data["policy"]["people"]["alice-2"] == ["alice@home.example"]
    html = _audit(repo, capsys, "--format", "html")
    assert "<tr><td>alice-2</td><td>alice@home.example</td></tr>" in html
