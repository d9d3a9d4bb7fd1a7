"""What a new user ran into (issue 10, deliverable 7), through the real entry point and git.

Each test runs ``twokey`` as a user would (``main(argv)`` or the installed script) on a real
repository, and asserts the exit code and the words the user reads.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.gitrepo import ALICE, GitRepo
from twokey.cli import main

EXAMPLE = Path(__file__).resolve().parents[3] / "src/twokey/policy/examples/walkthrough.yml"


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """No user or system git config, no ledger from the environment."""
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.delenv("TWOKEY_LEDGER", raising=False)
    monkeypatch.delenv("TWOKEY_KEY", raising=False)


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """A work tree on branch ``trunk`` (not ``main``) with two commits."""
    repo = GitRepo.init(tmp_path / "shop", branch="trunk")
    repo.commit({"README.md": "shop\n"}, "first", ALICE)
    repo.commit({"app.py": "print(1)\n"}, "second", ALICE)
    return repo


@pytest.fixture
def key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "bob.key"
    assert main(["keys", "generate", "--out", str(path), "--comment", "bob"]) == 0
    capsys.readouterr()
    return path


# --- a revision that does not exist is bad input (2), said plainly -----------------------------

_UNKNOWN_REV = [
    pytest.param(["approve", "nosuchrev"], id="approve"),
    pytest.param(["approve", "HEAD~5"], id="approve-past-root"),
    pytest.param(["attest", "check", "nosuchrev", "--name", "tests", "--passed"], id="check"),
    pytest.param(["attest", "provenance", "--artifact", "sha256:" + "0" * 64], id="provenance"),
    pytest.param(
        ["attest", "deploy-approval", "--artifact", "sha256:" + "0" * 64, "--environment", "p"],
        id="deploy-approval",
    ),
    pytest.param(["evidence", "list", "nosuchrev"], id="evidence-list"),
    pytest.param(["evidence", "verify", "nosuchrev", "--policy", str(EXAMPLE)], id="verify"),
]


@pytest.mark.parametrize("argv", _UNKNOWN_REV)
def test_an_unknown_revision_is_exit_2_in_plain_words(
    argv: list[str], repo: GitRepo, key: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if argv[:2] in (["attest", "provenance"], ["attest", "deploy-approval"]):
        argv = [*argv, "--commit", "nosuchrev"]
    code = main(
        [*argv, "--repo", str(repo.path), "--key", str(key)]
        if argv[0] != "evidence"
        else [*argv, "--repo", str(repo.path)]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    assert "in this repository" in err
    assert "rev-parse" not in err
    assert "hint: name a branch, tag or commit id" in err


def test_a_revision_shaped_like_an_option_is_refused(
    repo: GitRepo, key: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["approve", "--repo", str(repo.path), "--key", str(key), "--", "--all"]) == 2
    assert "'--all' is not a revision" in capsys.readouterr().err


# --- defaults that said `main` come from the repository's HEAD --------------------------------


def _approved_ref(capsys: pytest.CaptureFixture[str]) -> str:
    out = capsys.readouterr().out
    assert out.startswith("approved "), out
    return out.split(" for ", 1)[1].split(" in ", 1)[0]


def test_approve_defaults_to_the_branch_head_names(
    repo: GitRepo, key: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["approve", "--repo", str(repo.path), "--key", str(key)]
    assert main(base) == 0
    assert _approved_ref(capsys) == "refs/heads/trunk"
    assert main([*base, "--ref", "HEAD"]) == 0
    assert _approved_ref(capsys) == "refs/heads/trunk"
    assert main([*base, "--ref", "release"]) == 0
    assert _approved_ref(capsys) == "refs/heads/release"


def test_in_a_clone_the_default_is_the_remote_default_branch(
    repo: GitRepo, key: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clone = repo.clone(tmp_path / "clone", ALICE)
    clone.git("switch", "-q", "-c", "feature")
    assert main(["approve", "--repo", str(clone.path), "--key", str(key)]) == 0
    assert _approved_ref(capsys) == "refs/heads/trunk"  # origin/HEAD, not the feature branch
    assert main(["approve", "--repo", str(clone.path), "--key", str(key), "--ref", "HEAD"]) == 0
    assert _approved_ref(capsys) == "refs/heads/feature"


def test_a_detached_head_without_origin_asks_for_ref(
    repo: GitRepo, key: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.git("branch", "other")
    repo.git("switch", "-q", "--detach", "HEAD~1")
    assert main(["approve", "--repo", str(repo.path), "--key", str(key)]) == 2
    assert "HEAD is detached" in capsys.readouterr().err
    repo.git("branch", "-D", "other")  # one branch left: that is the one
    assert main(["approve", "--repo", str(repo.path), "--key", str(key)]) == 0
    assert _approved_ref(capsys) == "refs/heads/trunk"


def test_a_bare_repository_whose_head_names_an_unborn_branch(
    repo: GitRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`git init --bare` made HEAD say master; only main was pushed (as the benchmarks do)."""
    bare = GitRepo.init(tmp_path / "srv.git", bare=True, branch="master")
    repo.git("push", "-q", str(bare.path), "trunk:refs/heads/release")
    assert main(["audit", "--repo", str(bare.path), "--format", "json"]) == 0
    assert '"refs/heads/release"' in capsys.readouterr().out  # the only branch
    repo.git("push", "-q", str(bare.path), "trunk:main")
    assert main(["audit", "--repo", str(bare.path), "--format", "json"]) == 0
    assert '"refs/heads/main"' in capsys.readouterr().out


def test_an_empty_clone_approves_for_the_branch_its_head_will_make(
    repo: GitRepo, key: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The walkthrough's first approval: nothing on the server but a pushed bootstrap branch."""
    bare = GitRepo.init(tmp_path / "srv.git", bare=True, branch="prod")
    clone = bare.clone(tmp_path / "clone", ALICE)
    repo.git("push", "-q", str(bare.path), "trunk:refs/heads/bootstrap")
    clone.git("fetch", "-q", "origin")
    argv = ["approve", "origin/bootstrap", "--repo", str(clone.path), "--key", str(key)]
    assert main(argv) == 0
    assert _approved_ref(capsys) == clone.git("symbolic-ref", "HEAD")


# --- no ledger command but init creates a database --------------------------------------------

_READERS = [
    ["prove", "--index", "0"],
    ["checkpoint", "--key", "k"],
    ["verify"],
    ["export", "out"],
    ["consistency", "--from", "c", "--key", "k"],
    ["append"],
]


@pytest.mark.parametrize("argv", _READERS, ids=[a[0] for a in _READERS])
@pytest.mark.parametrize("where", ["default", "sqlite-url", "path"])
def test_a_missing_ledger_is_never_created(
    argv: list[str],
    where: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO('{"kind": "note", "body": {}}\n'))
    (tmp_path / "k").write_text("x")
    (tmp_path / "c").write_text("x")
    db = tmp_path / ".twokey" / "ledger.db"
    option = {
        "default": [],
        "sqlite-url": ["--ledger", f"sqlite://{db}"],
        "path": ["--ledger", str(db)],
    }[where]
    code = main(["ledger", *argv, *option])
    err = capsys.readouterr().err
    assert not db.exists()
    assert not (tmp_path / ".twokey").exists()
    if argv[0] in ("checkpoint", "consistency"):  # the bad key file is read first: also 2
        assert code == 2
        return
    assert code == 2, err
    assert "no ledger at" in err
    assert "twokey ledger init" in err


def test_init_creates_and_then_the_others_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["ledger", "init"]) == 0
    assert (tmp_path / ".twokey" / "ledger.db").exists()
    assert main(["ledger", "verify"]) == 1  # no checkpoint, no trusted key: nothing proved
    assert main(["ledger", "verify", "--allow-no-checkpoint", "--consistency-only"]) == 0
    assert "consistent: 0 entries verify" in capsys.readouterr().out


# --- a reader that goes away (| head) -------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["policy", "show", str(EXAMPLE), "--format", "json"], id="policy-show"),
        pytest.param(["audit", "identities", "--format", "json"], id="audit-identities"),
        pytest.param(["--help"], id="help"),
    ],
)
def test_a_closed_pipe_ends_quietly_and_not_as_success(argv: list[str], repo: GitRepo) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader (head) is gone before we write
    try:
        result = subprocess.run(
            [sys.executable, "-m", "twokey", *argv],
            stdout=write,
            stderr=subprocess.PIPE,
            cwd=repo.path,
            check=False,
        )
    finally:
        os.close(write)
    assert result.stderr == b""
    # --help is argparse's own exit; every handler's output ends in 141 (128 + SIGPIPE)
    assert result.returncode == (0 if argv == ["--help"] else 141)


def test_head_reads_the_first_lines(repo: GitRepo) -> None:
    """The real pipeline: `twokey audit identities --format json | head -1`."""
    result = subprocess.run(
        f"{sys.executable} -m twokey audit identities --format json | head -c1",
        shell=True,
        capture_output=True,
        cwd=repo.path,
        check=False,
    )
    assert result.stdout == b"["
    assert b"Error" not in result.stderr


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["approve"], id="approve"),
        pytest.param(["attest", "check", "--name", "t", "--passed"], id="attest"),
        pytest.param(["evidence", "list"], id="evidence"),
        pytest.param(["audit"], id="audit"),
    ],
)
def test_a_directory_that_is_no_repository_is_exit_2(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--repo", str(tmp_path)]) == 2
    assert "is not a git repository" in capsys.readouterr().err


@pytest.mark.parametrize("ref", ["main..x", "refs/heads/a b", "-x", "refs/heads/x.lock"])
def test_a_ref_that_is_no_ref_name_is_exit_2(
    ref: str, repo: GitRepo, key: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["approve", "--repo", str(repo.path), "--key", str(key), f"--ref={ref}"]) == 2
    assert "is not a ref name" in capsys.readouterr().err


def test_a_clone_without_origin_head_approves_for_main_not_the_topic_branch(
    repo: GitRepo, key: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A clone of an empty server has no origin/HEAD; its HEAD is the branch being worked on."""
    repo.git("branch", "-m", "trunk", "main")
    clone = repo.clone(tmp_path / "clone", ALICE)
    clone.git("remote", "set-head", "origin", "--delete")
    clone.git("switch", "-q", "-c", "feature")
    assert main(["approve", "--repo", str(clone.path), "--key", str(key)]) == 0
    assert _approved_ref(capsys) == "refs/heads/main"
