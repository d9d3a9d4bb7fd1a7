"""``twokey audit --repos``: many real repositories, one summary, failures reported not fatal."""

from __future__ import annotations

import json
import os
import pty
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CHROMIUM_ARGS
from tests.integration.audit.support import build_history
from tests.support.gitrepo import ALICE, BOB, CAROL, GitRepo
from twokey.audit import find_repositories
from twokey.cli import main
from twokey.errors import UsageError


def _reviewed(repo: GitRepo, name: str, reviewer: str) -> None:
    repo.commit({name: f"{name}\n"}, f"add {name}\n\nReviewed-by: {reviewer}", ALICE)


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """history: 8 changes, 3 violations; server.git: bare, master, all reviewed;
    broken: an invalid policy of its own; notes: not a repository."""
    root = tmp_path_factory.mktemp("org")
    build_history(GitRepo.init(root / "history"))
    work = GitRepo.init(tmp_path_factory.mktemp("work") / "w", branch="master")
    _reviewed(work, "a", f"{BOB.name} <{BOB.email}>")
    _reviewed(work, "b", f"{CAROL.name} <{CAROL.email}>")
    GitRepo.init(root / "server.git", bare=True, branch="master")
    work.git("push", "-q", str(root / "server.git"), "master")
    broken = GitRepo.init(root / "broken")
    broken.commit({".twokey/policy.yml": "version: 1\npeople: [oops\n"}, "policy", ALICE)
    (root / "notes").mkdir()
    (root / "notes" / "README").write_text("not a repository\n")
    return root


def _json(argv: list[str], tmp: Path, code: int) -> dict[str, Any]:
    out = tmp / "org.json"
    assert main(["audit", *argv, "--jobs", "2", "--format", "json", "--output", str(out)]) == code
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def _by_name(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {Path(r["path"]).name: r for r in data["repositories"]}


def test_a_folder_audits_every_repository_and_a_failure_is_a_row(org: Path, tmp_path: Path) -> None:
    data = _json(["--repos", str(org)], tmp_path, 3)  # 3: one repository failed
    repos = _by_name(data)
    assert sorted(repos) == ["broken", "history", "server.git"]  # notes is no repository
    history, server, broken = repos["history"], repos["server.git"], repos["broken"]
    assert (history["changes"], history["violations"], history["status"]) == (8, 3, "ok")
    assert (server["ref"], server["changes"], server["violations"]) == ("refs/heads/master", 2, 0)
    assert server["reviewed_rate"] == 1.0
    assert broken["status"] == "failed"
    assert broken["reason"].startswith("invalid policy: 1 problem; ")
    assert "\n" not in broken["reason"]
    assert data["summary"] == {
        **data["summary"],
        "repositories": 3,
        "audited": 2,
        "failed": 1,
        "changes": 10,
        "violations": 3,
    }


def test_each_summary_is_the_single_repository_audit(
    org: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _json(["--repos", str(org)], tmp_path, 3)
    for name in ("history", "server.git"):
        assert main(["audit", "--repo", str(org / name), "--format", "json"]) == 0
        single = json.loads(capsys.readouterr().out)
        row = _by_name(data)[name]
        s = single["summary"]
        assert (row["changes"], row["violations"], row["reviewed"], row["break_glass"]) == (
            s["changes"],
            s["violations"],
            s["reviewed"],
            s["break_glass"],
        )
        kinds = {sig["kind"] for sig in single["signals"]}
        assert {t["kind"] for t in row["top_signals"]} <= kinds


def test_a_list_file_with_comments_relative_paths_and_a_missing_one(
    org: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listing = org / "repos.txt"
    listing.write_text("# our repositories\nhistory\n\n  server.git  \n# gone:\ngone\n")
    data = _json(["--repos", str(listing)], tmp_path, 3)
    out = tmp_path / "org.json"
    assert capsys.readouterr().err == f"wrote {out}: 3 repositories, 1 failed, 3 violations\n"
    repos = _by_name(data)
    assert sorted(repos) == ["gone", "history", "server.git"]
    assert repos["gone"]["status"] == "failed"
    assert "is not a git repository" in repos["gone"]["reason"]


def test_exit_codes_without_failures(org: Path, tmp_path: Path) -> None:
    listing = tmp_path / "ok.txt"
    listing.write_text(f"{org / 'history'}\n{org / 'server.git'}\n")
    base = ["audit", "--repos", str(listing), "--jobs", "2"]
    assert main(base) == 0
    assert main([*base, "--fail-on-violation"]) == 1
    clean = tmp_path / "clean.txt"
    clean.write_text(f"{org / 'server.git'}\n")
    assert main(["audit", "--repos", str(clean), "--fail-on-violation"]) == 0


def test_text_csv_and_html(org: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--repos", str(org), "--jobs", "2"]) == 3
    text = capsys.readouterr().out.splitlines()
    assert text[0].startswith("organisation audit of 3 repositories (1 failed): 10 changes, 3 ")
    assert any(line.startswith(f"FAILED    {org / 'broken'}: invalid policy") for line in text)
    assert any(line.startswith(f"VIOLATION {org / 'history'} refs/heads/main: 8 ") for line in text)
    assert main(["audit", "--repos", str(org), "--jobs", "2", "--format", "csv"]) == 3
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].startswith("path,status,reason,ref,changes,violations")
    assert len(rows) == 4
    assert main(["audit", "--repos", str(org), "--jobs", "2", "--format", "html"]) == 3
    html = capsys.readouterr().out
    assert html.count('<tr class="failed">') == 1
    assert html.count('<tr class="violations">') == 1
    assert "<b>10</b>changes" in html


@pytest.mark.parametrize(
    "extra",
    [
        ["--jobs", "0"],
        ["--ledger", "sqlite:///x.db"],
        ["--repo", "/tmp"],
        ["identities"],
        ["--all"],
    ],
    ids=["jobs-zero", "ledger", "repo", "identities", "all"],
)
def test_usage_errors(org: Path, extra: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--repos", str(org), *extra]) == 2
    assert capsys.readouterr().out == ""


def test_nothing_to_audit_is_bad_input(tmp_path: Path) -> None:
    assert main(["audit", "--repos", str(tmp_path / "nope")]) == 2
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no repositories found"):
        find_repositories(tmp_path / "empty")
    (tmp_path / "list").write_text("# nothing\n\n")
    with pytest.raises(UsageError, match="no repositories found"):
        find_repositories(tmp_path / "list")


def test_a_linked_worktree_is_a_repository(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "main")
    repo.commit({"a": "a\n"}, "a", ALICE)
    linked = tmp_path / "linked"
    linked.mkdir()
    repo.git("worktree", "add", "-q", str(linked / "wt"), "-b", "wt-branch")
    assert (linked / "wt" / ".git").is_file()
    assert find_repositories(linked) == [linked / "wt"]


def _on_a_terminal(argv: list[str]) -> tuple[int, str]:
    """Run ``python -m twokey ARGV`` with a pseudo-terminal as its stdout and stderr."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: never returns
        os.execv(sys.executable, [sys.executable, "-m", "twokey", *argv])
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


def test_progress_on_a_terminal_counts_repositories(org: Path, tmp_path: Path) -> None:
    odd = tmp_path / "odd"
    odd.mkdir()
    GitRepo.init(odd / "[red]x").commit({"a": "a\n"}, "a\n\nReviewed-by: <bob@example.com>", ALICE)
    listing = tmp_path / "list.txt"
    listing.write_text(f"{org / 'history'}\n{odd / '[red]x'}\n")
    out = tmp_path / "org.txt"
    argv = ["audit", "--repos", str(listing), "--jobs", "1", "--output", str(out)]
    code, screen = _on_a_terminal(argv)  # one job: the odd name is the last one shown
    assert code == 0, screen
    assert "repositories 2/2" in screen
    assert "[red]x: 0 violations" in screen  # a folder name is shown, never read as markup
    assert f"wrote {out}: 2 repositories, 0 failed, 3 violations" in screen
    assert out.read_text().startswith("organisation audit of 2 repositories (0 failed)")


@pytest.mark.browser
def test_html_fits_a_1400px_window(org: Path, tmp_path: Path, chromium_path: Path) -> None:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    page_file = tmp_path / "org.html"
    argv = ["audit", "--repos", str(org), "--jobs", "2", "--format", "html"]
    assert main([*argv, "--output", str(page_file)]) == 3
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(page_file.as_uri())
            rows = page.locator("#repositories tbody tr")
            assert rows.count() == 3
            failed = page.locator("#repositories tr.failed")
            assert failed.is_visible()
            assert "invalid policy: 1 problem" in failed.inner_text()
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= 1400  # the long reason wraps: nothing is cut off at the right
            assert page.locator("#totals").inner_text().split()[:2] == ["2", "audited"]
        finally:
            browser.close()
