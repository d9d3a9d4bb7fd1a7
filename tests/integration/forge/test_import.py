"""``twokey forge import`` then ``twokey audit``: a real repository whose merge and squash
commits match pull requests served by the fake forge; the audit judges them with the reviews
that really happened (trust ``forge``), and a second import reads nothing already imported."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.fakeforge import Answer, FakeForge, running_forge
from tests.support.gitrepo import ALICE, BOB, GitRepo
from twokey.cli import main

REPO = "octo/app"
T = "2026-03-{:02d}T10:00:00+00:00"
POLICY = """\
version: 1
people:
  alice: {emails: [alice@example.com], github: alice}
  bob: {emails: [bob@example.com], github: bob}
groups:
  reviewers: [alice, bob]
branches:
  main: {approvals: 1, approvers: [reviewers], accept: [forge]}
policy_changes: {approvals: 1, approvers: [reviewers]}
"""


@dataclass
class Pull:
    """A pull request as the fake forge serves it, with its reviews."""

    number: int
    head: str
    landed: str
    day: int
    reviews: list[tuple[str, str, str]] = field(default_factory=list)  # login, state, commit

    def json(self) -> dict[str, Any]:
        when = T.format(self.day)
        return {
            "number": self.number,
            "state": "closed",
            "user": {"login": "alice", "type": "User"},
            "base": {"ref": "main"},
            "head": {"sha": self.head},
            "merge_commit_sha": self.landed,
            "merged_at": when,
            "updated_at": when,
        }

    def reviews_json(self) -> list[dict[str, Any]]:
        return [
            {
                "id": self.number * 100 + i,
                "user": {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"},
                "state": state,
                "commit_id": commit,
                "submitted_at": T.format(self.day),
            }
            for i, (login, state, commit) in enumerate(self.reviews)
        ]


def _branch(repo: GitRepo, name: str, files: dict[str, str], day: int) -> str:
    repo.git("checkout", "-q", "-b", name, "main")
    head = repo.commit(files, f"work on {name}", ALICE, when=T.format(day))
    repo.git("checkout", "-q", "main")
    return head


def _merge(repo: GitRepo, name: str, day: int) -> str:
    repo.git("merge", "-q", "--no-ff", name, "-m", f"Merge {name}", person=BOB, when=T.format(day))
    return repo.rev_parse("HEAD")


def build(repo: GitRepo) -> dict[str, Pull]:
    """The history and its pull requests.

    ==== ======================================================== ===========
    pr   what                                                     audit
    ==== ======================================================== ===========
    1    merge commit, approved by bob at its head                 allow
    2    squash commit, approved by bob at the PR's head           allow
    3    approved by alice, its author                             deny
    4    approved by bob, then alice pushed more (stale)           deny
    5    approved by a bot and by a login the policy lacks         deny
    6    approved by bob, then dismissed                           deny
    ==== ======================================================== ===========
    """
    repo.commit({"README": "x\n"}, "init", ALICE, when=T.format(1))
    pulls: dict[str, Pull] = {}
    head = _branch(repo, "f1", {"a.py": "1\n"}, 2)
    pulls["merge"] = Pull(1, head, _merge(repo, "f1", 3), 3, [("bob", "APPROVED", head)])
    head = _branch(repo, "f2", {"b.py": "2\n"}, 4)
    repo.git("update-ref", "refs/pull/2/head", head)  # GitHub keeps the PR's head
    repo.git("merge", "-q", "--squash", "f2")
    landed = repo.commit({}, "feature b (#2)", ALICE, when=T.format(5))
    pulls["squash"] = Pull(2, head, landed, 5, [("bob", "APPROVED", head)])
    head = _branch(repo, "f3", {"c.py": "3\n"}, 6)
    pulls["self"] = Pull(3, head, _merge(repo, "f3", 7), 7, [("alice", "APPROVED", head)])
    reviewed = _branch(repo, "f4", {"d.py": "4\n"}, 8)
    repo.git("checkout", "-q", "f4")
    head = repo.commit({"d.py": "4 and more\n"}, "more", ALICE, when=T.format(9))
    repo.git("checkout", "-q", "main")
    pulls["stale"] = Pull(4, head, _merge(repo, "f4", 10), 10, [("bob", "APPROVED", reviewed)])
    head = _branch(repo, "f5", {"e.py": "5\n"}, 11)
    bots = [("dependabot[bot]", "APPROVED", head), ("mallory", "APPROVED", head)]
    pulls["strangers"] = Pull(5, head, _merge(repo, "f5", 12), 12, bots)
    head = _branch(repo, "f6", {"f.py": "6\n"}, 13)
    dismissed = [("bob", "APPROVED", head), ("bob", "DISMISSED", head)]
    pulls["dismissed"] = Pull(6, head, _merge(repo, "f6", 14), 14, dismissed)
    return pulls


def serve(forge: FakeForge, pulls: list[Pull], per_page: int = 4) -> None:
    """The pull list, newest first, in pages of ``per_page`` linked by ``Link``, and the
    reviews of each."""
    ordered = sorted(pulls, key=lambda p: p.day, reverse=True)
    base = "state=closed&sort=updated&direction=desc&per_page=100"
    chunks = [ordered[i : i + per_page] for i in range(0, len(ordered), per_page)]
    for n, chunk in enumerate(chunks, start=1):
        query = base if n == 1 else f"{base}&page={n}"
        link = {"Link": f'<{forge.url}/repos/{REPO}/pulls?{base}&page={n + 1}>; rel="next"'}
        headers = link if n < len(chunks) else {}
        forge.answer(
            "GET", f"/repos/{REPO}/pulls?{query}", Answer(200, [p.json() for p in chunk], headers)
        )
    for pull in pulls:
        forge.answer(
            "GET", f"/repos/{REPO}/pulls/{pull.number}/reviews", Answer(200, pull.reviews_json())
        )


@pytest.fixture
def forge() -> Iterator[FakeForge]:
    with running_forge() as f:
        yield f


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[GitRepo, dict[str, Pull], Path]:
    monkeypatch.setenv("TWOKEY_GITHUB_TOKEN", "ghp_test")
    repo = GitRepo.init(tmp_path / "app")
    pulls = build(repo)
    policy = tmp_path / "policy.yml"
    policy.write_text(POLICY)
    return repo, pulls, policy


def _import(
    repo: GitRepo, forge: FakeForge, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any]]:
    argv = ["forge", "import", "--github", REPO, "--since", "2026-01-01", "--api-url", forge.url]
    code = main([*argv, "--repo", str(repo.path), "--format", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if code == 0 else {}


def _audit(repo: GitRepo, policy: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert (
        main(["audit", "--repo", str(repo.path), "--policy", str(policy), "--format", "json"]) == 0
    )
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    return report


def test_the_audit_judges_merges_and_squashes_with_the_imported_reviews(
    setup: tuple[GitRepo, dict[str, Pull], Path],
    forge: FakeForge,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo, pulls, policy = setup
    serve(forge, list(pulls.values()))
    code, report = _import(repo, forge, capsys)
    assert code == 0
    assert (report["listed"], report["imported"], report["approvals"]) == (6, 6, 6)
    assert all(c.headers["authorization"] == "token ghp_test" for c in forge.calls)
    audit = _audit(repo, policy, capsys)
    verdicts = {c["commit"]: c for c in audit["changes"]}
    expected = {
        "merge": "allow",
        "squash": "allow",
        "self": "deny",
        "stale": "deny",
        "strangers": "deny",
        "dismissed": "deny",
    }
    assert {label: verdicts[p.landed]["verdict"] for label, p in pulls.items()} == expected
    (bob,) = verdicts[pulls["merge"].landed]["approvers"]
    assert (bob["who"], bob["trust"], bob["counted"]) == ("bob", "forge", True)
    assert "github review by bob of octo/app #1" in bob["source"]
    (alice,) = verdicts[pulls["self"].landed]["approvers"]
    assert (alice["who"], alice["counted"]) == ("alice", False)
    stale = verdicts[pulls["stale"].landed]["approvers"]
    assert [(a["who"], a["counted"]) for a in stale] == [("bob", False)]
    strangers = verdicts[pulls["strangers"].landed]["approvers"]
    assert [(a["who"], a["counted"]) for a in strangers] == [
        ("github:mallory", False)
    ]  # the bot is dropped
    assert verdicts[pulls["dismissed"].landed]["approvers"] == []
    sources = " ".join(audit["sources"])
    imported = "forge import (github-octo--app.json): 5 approval(s) for this ref (trust: forge)"
    assert f"{imported}; 1 by bots or apps ignored" in sources


def test_a_second_import_reads_nothing_already_imported(
    setup: tuple[GitRepo, dict[str, Pull], Path],
    forge: FakeForge,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo, pulls, _ = setup
    serve(forge, list(pulls.values()))
    assert _import(repo, forge, capsys)[0] == 0
    forge.calls.clear()
    code, report = _import(repo, forge, capsys)
    assert code == 0
    assert (report["imported"], report["unchanged"]) == (0, 1)  # the newest, at the cursor
    assert [c.path for c in forge.calls] == [f"/repos/{REPO}/pulls"]  # one page, no reviews


def test_an_interrupted_import_resumes_where_it_stopped(
    setup: tuple[GitRepo, dict[str, Pull], Path],
    forge: FakeForge,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo, pulls, _ = setup
    forge.answer(
        "GET", f"/repos/{REPO}/pulls/3/reviews", Answer(500, {"message": "down"}), Answer(500)
    )
    serve(forge, list(pulls.values()))
    code, _ = _import(repo, forge, capsys)
    assert code == 3  # the forge failed: an infrastructure error
    cache = json.loads((repo.path / ".git/twokey/forge/github-octo--app.json").read_text())
    assert sorted(cache["changes"]) == ["4", "5", "6"]  # newest first, up to the failure
    assert cache["cursor"] is None  # the run did not complete
    forge._routes.clear()
    serve(forge, list(pulls.values()))
    forge.calls.clear()
    code, report = _import(repo, forge, capsys)
    assert code == 0
    assert (report["imported"], report["unchanged"]) == (3, 3)
    fetched = sorted(c.path for c in forge.calls if c.path.endswith("/reviews"))
    assert fetched == [f"/repos/{REPO}/pulls/{n}/reviews" for n in (1, 2, 3)]


def test_a_new_pull_request_is_imported_on_the_next_run(
    setup: tuple[GitRepo, dict[str, Pull], Path],
    forge: FakeForge,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo, pulls, policy = setup
    serve(forge, list(pulls.values()))
    assert _import(repo, forge, capsys)[0] == 0
    head = _branch(repo, "f7", {"g.py": "7\n"}, 20)
    late = Pull(7, head, _merge(repo, "f7", 21), 21, [("bob", "APPROVED", head)])
    forge._routes.clear()
    serve(forge, [*pulls.values(), late])
    forge.calls.clear()
    code, report = _import(repo, forge, capsys)
    assert (code, report["imported"]) == (0, 1)
    assert [c.path for c in forge.calls if c.path.endswith("/reviews")] == [
        f"/repos/{REPO}/pulls/7/reviews"
    ]
    verdicts = {c["commit"]: c["verdict"] for c in _audit(repo, policy, capsys)["changes"]}
    assert verdicts[late.landed] == "allow"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--github", "octo/../x"], "not a repository name"),
        (["--github", REPO, "--since", "yesterday"], "not an ISO date"),
        (["--gitlab", "g/p"], "TWOKEY_GITLAB_TOKEN"),
    ],
    ids=["bad-repository", "bad-date", "no-gitlab-token"],
)
def test_bad_input_is_exit_2_and_writes_nothing(
    setup: tuple[GitRepo, dict[str, Pull], Path],
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo = setup[0]
    full = ["forge", "import", *argv, "--repo", str(repo.path), "--api-url", "http://127.0.0.1:9"]
    if "--since" not in argv:
        full += ["--since", "2026-01-01"]
    assert main(full) == 2
    assert message in capsys.readouterr().err
    assert not (repo.path / ".git/twokey/forge").exists()


def _merge_request(pull: Pull) -> dict[str, Any]:
    when = T.format(pull.day)
    return {
        "iid": pull.number,
        "state": "merged",
        "target_branch": "main",
        "sha": pull.head,
        "merge_commit_sha": pull.landed,
        "squash_commit_sha": None,
        "merged_at": when,
        "updated_at": when,
        "author": {"username": "alice"},
    }


def test_gitlab_merge_requests_and_approvals(
    setup: tuple[GitRepo, dict[str, Pull], Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo, pulls, policy = setup
    monkeypatch.setenv("TWOKEY_GITLAB_TOKEN", "glpat-test")
    policy.write_text(POLICY.replace("github:", "gitlab:"))
    chosen = [pulls["merge"], pulls["self"], pulls["strangers"]]
    approvers = {1: ["bob"], 3: ["alice"], 5: ["project_7_bot_1a2b", "mallory"]}
    project = "/projects/group%2Fapp"
    with running_forge("/api/v4") as gitlab:
        newest, *older = sorted(chosen, key=lambda p: p.day, reverse=True)
        page2 = {"X-Next-Page": "2"}  # GitLab's own pagination header
        gitlab.answer(
            "GET", f"{project}/merge_requests", Answer(200, [_merge_request(newest)], page2)
        )
        query = "page=2&state=merged&order_by=updated_at&sort=desc&per_page=100"
        rest = [_merge_request(p) for p in older]
        gitlab.answer(
            "GET",
            f"{project}/merge_requests?updated_after=2026-01-01T00:00:00%2B00:00&{query}",
            Answer(200, rest),
        )
        for pull in chosen:
            approved_by = [{"user": {"username": u}} for u in approvers[pull.number]]
            gitlab.answer(
                "GET",
                f"{project}/merge_requests/{pull.number}/approvals",
                Answer(200, {"approved_by": approved_by}),
            )
        argv = [
            "forge",
            "import",
            "--gitlab",
            "group/app",
            "--since",
            "2026-01-01",
            "--api-url",
            gitlab.url,
        ]
        assert main([*argv, "--repo", str(repo.path), "--format", "json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert all(c.headers["private-token"] == "glpat-test" for c in gitlab.calls)
    assert (report["listed"], report["imported"], report["approvals"]) == (3, 3, 4)
    verdicts = {c["commit"]: c for c in _audit(repo, policy, capsys)["changes"]}
    assert verdicts[pulls["merge"].landed]["verdict"] == "allow"
    assert verdicts[pulls["self"].landed]["verdict"] == "deny"
    strangers = verdicts[pulls["strangers"].landed]
    assert strangers["verdict"] == "deny"
    assert [a["who"] for a in strangers["approvers"]] == ["gitlab:mallory"]  # the bot dropped
