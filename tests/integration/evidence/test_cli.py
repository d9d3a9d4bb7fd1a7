"""The evidence commands end to end: keys generate, approve, evidence list/verify."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support.gitrepo import ALICE, BOB, GitRepo
from twokey.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def policy_for(path: Path, keys: dict[str, str]) -> Path:
    people = "".join(
        f'  {name}: {{emails: [{name}@example.com], keys: ["{key}"]}}\n'
        for name, key in keys.items()
    )
    path.write_text(
        f"version: 1\npeople:\n{people}groups:\n  reviewers: [{', '.join(keys)}]\n"
        "branches:\n  main: {approvals: 1, approvers: [reviewers]}\n"
        "policy_changes: {approvals: 1, approvers: [reviewers]}\n"
    )
    return path


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    work = GitRepo.init(tmp_path / "work")
    work.commit({"app.py": "print(1)\n"}, "first", ALICE)
    work.git("config", "twokey.repository", "example.com/shop")
    return work


def test_keys_generate_writes_a_key_pair_and_prints_the_snippet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "keys" / "id_ed25519"
    code, out, _ = run(capsys, "keys", "generate", "--out", str(out_file), "--comment", "bob@x")
    assert code == 0
    assert out_file.stat().st_mode & 0o777 == 0o600
    public = Path(f"{out_file}.pub").read_text().split()
    assert public[0] == "ssh-ed25519"
    assert public[2] == "bob@x"
    assert f'keys: ["{public[0]} {public[1]}"]' in out
    listed = subprocess.run(
        ["ssh-keygen", "-l", "-f", f"{out_file}.pub"], capture_output=True, text=True, check=True
    )
    assert listed.stdout.split()[1] in out  # the fingerprint, as ssh-keygen prints it
    code, _, err = run(capsys, "keys", "generate", "--out", str(out_file))
    assert code == 2
    assert "refusing to overwrite" in err


def test_keys_generate_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "keys", "generate", "--out", str(tmp_path / "k"), "--format", "json")
    assert code == 0
    assert json.loads(out)["fingerprint"].startswith("SHA256:")


def test_approve_with_a_twokey_key_then_verify(
    repo: GitRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "bob.key"
    run(capsys, "keys", "generate", "--out", str(key))
    public = " ".join(Path(f"{key}.pub").read_text().split()[:2])
    policy = policy_for(tmp_path / "policy.yml", {"bob": public})
    code, out, _ = run(
        capsys,
        "approve",
        "--repo",
        str(repo.path),
        "--key",
        str(key),
        "--ref",
        "main",
        "--comment",
        "lgtm",
        "--format",
        "json",
    )
    assert code == 0
    result = json.loads(out)
    head = repo.rev_parse("HEAD")
    assert (result["commit"], result["target_ref"], result["repository"]) == (
        head,
        "refs/heads/main",
        "example.com/shop",
    )
    assert result["ref"].startswith(f"refs/twokey/evidence/{head}/")
    code, out, _ = run(capsys, "evidence", "list", "--repo", str(repo.path))
    assert (code, out.count("approval")) == (0, 1)
    code, out, _ = run(
        capsys, "evidence", "verify", "HEAD", "--repo", str(repo.path), "--policy", str(policy)
    )
    assert code == 0
    assert f"ok   approval of {head[:12]}" in out
    assert "signed by bob (SHA256:" in out
    assert "1 verified, 0 refused (repository example.com/shop)" in out


def test_approve_defaults_to_the_git_signing_key(
    repo: GitRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    repo.git("config", "gpg.format", "ssh")
    repo.git("config", "user.signingkey", f"{key}.pub")
    code, out, _ = run(capsys, "approve", "--repo", str(repo.path))
    assert code == 0
    assert "publish it: git push origin 'refs/twokey/*:refs/twokey/*'" in out
    public = " ".join(Path(f"{key}.pub").read_text().split()[:2])
    policy = policy_for(tmp_path / "policy.yml", {"bob": public})
    code, out, _ = run(
        capsys,
        "evidence",
        "verify",
        "--repo",
        str(repo.path),
        "--policy",
        str(policy),
        "--format",
        "json",
    )
    [row] = json.loads(out)
    assert (code, row["valid"], row["person"]) == (0, True, "bob")


def test_approve_without_any_key_is_a_usage_error(
    repo: GitRepo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TWOKEY_KEY", raising=False)
    code, _, err = run(capsys, "approve", "--repo", str(repo.path))
    assert code == 2
    assert "no signing key" in err


def test_approve_push_publishes_the_evidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    origin = GitRepo.init(tmp_path / "origin.git", bare=True)
    clone = origin.clone(tmp_path / "clone", BOB)
    clone.commit({"a": "1"}, "first", ALICE)
    clone.git("push", "-q", "origin", "HEAD:main")
    key = tmp_path / "bob.key"
    run(capsys, "keys", "generate", "--out", str(key))
    code, out, _ = run(
        capsys,
        "approve",
        "--repo",
        str(clone.path),
        "--key",
        str(key),
        "--push",
        "--format",
        "json",
    )
    assert code == 0
    ref = json.loads(out)["ref"]
    assert origin.git("for-each-ref", "--format=%(refname)", "refs/twokey/") == ref
    # the repository id of a clone is its normalised origin URL
    assert json.loads(out)["repository"] == str(tmp_path / "origin")


def test_verify_refuses_evidence_for_another_repository_or_a_wrong_tree(
    repo: GitRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "bob.key"
    run(capsys, "keys", "generate", "--out", str(key))
    public = " ".join(Path(f"{key}.pub").read_text().split()[:2])
    policy = policy_for(tmp_path / "policy.yml", {"bob": public})
    run(capsys, "approve", "--repo", str(repo.path), "--key", str(key), "--repository", "x/other")
    code, out, _ = run(
        capsys, "evidence", "verify", "HEAD", "--repo", str(repo.path), "--policy", str(policy)
    )
    assert code == 1
    assert "BAD  SUBJECT_MISMATCH: statement is for repository 'x/other'" in out
    assert "0 verified, 1 refused" in out


def test_verify_uses_the_remotes_policy_not_the_checkouts(
    repo: GitRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 15 item 16: in a PR checkout the policy that decides is the base's, as the
    remote has it; a policy the PR brings (registering its author's key) counts for nothing."""
    mallory = tmp_path / "mallory.key"
    run(capsys, "keys", "generate", "--out", str(mallory))
    bob = tmp_path / "bob.key"
    run(capsys, "keys", "generate", "--out", str(bob))
    (repo.path / ".twokey").mkdir()
    policy_for(repo.path / ".twokey" / "policy.yml", {"bob": _pub(bob)})
    repo.commit({}, "the policy", ALICE)
    remote = GitRepo(tmp_path / "remote.git")
    repo.git("clone", "-q", "--bare", str(repo.path), str(remote.path))
    checkout = remote.clone(tmp_path / "pr", ALICE)
    checkout.git("config", "twokey.repository", "example.com/shop")
    checkout.git("checkout", "-q", "-b", "pr")
    policy_for(checkout.path / ".twokey" / "policy.yml", {"bob": _pub(mallory)})
    checkout.commit({"app.py": "print(2)\n"}, "PR relaxes the policy", ALICE)
    run(capsys, "approve", "--repo", str(checkout.path), "--key", str(mallory))
    code, out, _ = run(capsys, "evidence", "verify", "HEAD", "--repo", str(checkout.path))
    assert code == 1
    assert "policy: refs/remotes/origin/main:.twokey/policy.yml (sha256:" in out
    assert "BAD  UNKNOWN_SIGNER" in out
    own = checkout.path / ".twokey" / "policy.yml"
    code, out, _ = run(
        capsys, "evidence", "verify", "HEAD", "--repo", str(checkout.path), "--policy", str(own)
    )
    assert code == 0
    assert f"policy: {own} (--policy)" in out


def test_verify_without_a_known_remote_policy_asks_for_one(
    repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "evidence", "verify", "HEAD", "--repo", str(repo.path))
    assert code == 2
    assert "pass --policy FILE" in err


def _pub(key: Path) -> str:
    return " ".join(Path(f"{key}.pub").read_text().split()[:2])
