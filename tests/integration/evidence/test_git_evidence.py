"""Evidence in real git repositories: commit signatures, approvals pushed concurrently, CLI."""

from __future__ import annotations

import json
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.gitrepo import ALICE, BOB, CAROL, DAVE, ERIN, FRANK, GitRepo, Person
from twokey.cli import main
from twokey.evidence import (
    GitEvidenceStore,
    allowed_signers_text,
    verify_commit_signature,
    verify_envelopes,
)
from twokey.policy import loads


def ssh_key(tmp: Path, name: str) -> Path:
    path = tmp / f"{name}_key"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)], check=True
    )
    return path


def public_line(private: Path) -> str:
    """The ``type base64`` part of a key's ``.pub`` file."""
    return " ".join(Path(f"{private}.pub").read_text().split()[:2])


def policy_text(keys: dict[str, Path]) -> str:
    people = "".join(
        f'  {name}: {{emails: [{name}@example.com], keys: ["{public_line(p)}"]}}\n'
        for name, p in keys.items()
    )
    return (
        f"version: 1\npeople:\n{people}groups:\n  reviewers: [{', '.join(keys)}]\n"
        "branches:\n  main: {approvals: 1, approvers: [reviewers]}\n"
        "policy_changes: {approvals: 1, approvers: [reviewers]}\n"
    )


def _verify_commit(repo: GitRepo, sha: str) -> bool:
    return (
        subprocess.run(
            ["git", "-C", str(repo.path), "verify-commit", sha], capture_output=True, check=False
        ).returncode
        == 0
    )


def _signed_commit(repo: GitRepo, key: Path, name: str, when: str | None = None) -> str:
    repo.git("config", "user.signingkey", str(key))
    repo.write(name, name)
    repo.git("add", "-A")
    repo.git("commit", "-q", "-S", "-m", name, person=ALICE, when=when)
    return repo.rev_parse("HEAD")


def test_commit_signatures_agree_with_git_verify_commit(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "work")
    keys = {n: ssh_key(tmp_path, n) for n in ("alice", "mallory", "dave", "erin")}
    dave, erin = public_line(keys["dave"]), public_line(keys["erin"])
    extra = (
        f'  dave: {{emails: [dave@example.com], keys: [{{key: "{dave}", revoked: true}}]}}\n'
        "  erin:\n    emails: [erin@example.com]\n"
        f'    keys: [{{key: "{erin}", valid_before: 2026-01-01T00:00:00Z}}]\n'
    )
    policy = loads(policy_text({"alice": keys["alice"]}).replace("groups:", f"{extra}groups:"))
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(allowed_signers_text(policy))  # what `twokey keys allowed-signers` prints
    repo.git("config", "gpg.format", "ssh")
    repo.git("config", "gpg.ssh.allowedSignersFile", str(allowed))
    cases = {
        "signed": _signed_commit(repo, keys["alice"], "a"),
        "unsigned": repo.commit({"b": "2"}, "unsigned", ALICE),
        "unknown-key": _signed_commit(repo, keys["mallory"], "c"),
        "revoked-key": _signed_commit(repo, keys["dave"], "d"),
        "inside-window": _signed_commit(repo, keys["erin"], "e", "2025-06-01T12:00:00Z"),
        "outside-window": _signed_commit(repo, keys["erin"], "f", "2026-06-01T12:00:00Z"),
    }
    raw = repo.git("cat-file", "commit", cases["signed"]).encode() + b"\n"
    tampered = raw.replace(b"\na\n", b"\na, then edited\n")
    cases["tampered"] = repo.git(
        "hash-object", "-t", "commit", "-w", "--stdin", input=tampered.decode()
    )
    expected = {"signed": True, "inside-window": True}
    for name, commit in cases.items():
        raw = subprocess.run(
            ["git", "-C", str(repo.path), "cat-file", "commit", commit],
            capture_output=True,
            check=True,
        ).stdout
        signature = verify_commit_signature(raw, policy)
        ours = signature is not None and signature.valid
        assert ours == _verify_commit(repo, commit) == expected.get(name, False), name
    assert verify_commit_signature(raw) is not None  # without a policy: the signature's own key


def test_concurrent_approvals_all_survive(tmp_path: Path) -> None:
    origin = GitRepo.init(tmp_path / "origin.git", bare=True)
    seed = origin.clone(tmp_path / "seed", ALICE)
    seed.commit({"app.py": "print(1)\n"}, "feature", ALICE)
    seed.git("push", "-q", "origin", "HEAD:main")
    people: list[Person] = [BOB, CAROL, DAVE, ERIN, FRANK]
    keys = {p.email.split("@")[0]: ssh_key(tmp_path, p.email.split("@")[0]) for p in people}
    clones = [
        (origin.clone(tmp_path / f"c{i}", p), keys[p.email.split("@")[0]])
        for i, p in enumerate(people)
    ]

    def approve_and_push(clone: GitRepo, key: Path) -> int:
        code = main(
            [
                "approve",
                "--repo",
                str(clone.path),
                "--ssh-key",
                str(key),
                "--repository",
                "shop",
                "--format",
                "json",
            ]
        )
        start.wait()  # every clone has signed: now all push at once
        clone.git("push", "-q", "origin", "refs/twokey/*:refs/twokey/*")
        return code

    start = threading.Barrier(len(clones))
    with ThreadPoolExecutor(max_workers=len(clones)) as pool:
        assert list(pool.map(lambda c: approve_and_push(*c), clones)) == [0] * 5
    head = origin.rev_parse("main")
    tree = origin.rev_parse("main^{tree}")
    envelopes = GitEvidenceStore(origin.path).for_subjects([head])
    policy = loads(policy_text(keys))
    result = verify_envelopes(envelopes, policy, repository="shop", commit_trees={head: tree})
    assert len(result.approvals) == 5
    assert result.rejected == ()
    signers = {policy.resolve(a.signer).id for a in result.approvals}  # type: ignore[union-attr]
    assert signers == set(keys)


def test_approve_then_evidence_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = GitRepo.init(tmp_path / "work")
    repo.commit({"a": "1"}, "first", ALICE)
    key = ssh_key(tmp_path, "bob")
    (tmp_path / "policy.yml").write_text(policy_text({"bob": key}))
    assert main(["approve", "--repo", str(repo.path), "--ssh-key", str(key)]) == 0
    assert "publish it: git push origin" in capsys.readouterr().out
    assert main(["evidence", "list", "HEAD", "--repo", str(repo.path)]) == 0
    assert "1 envelope(s)" in capsys.readouterr().out
    assert (
        main(
            [
                "evidence",
                "verify",
                "HEAD",
                "--repo",
                str(repo.path),
                "--policy",
                str(tmp_path / "policy.yml"),
                "--format",
                "json",
            ]
        )
        == 0
    )
    [row] = json.loads(capsys.readouterr().out)
    assert (row["valid"], row["person"], row["kind"]) == (True, "bob", "approval")
    # a corrupt evidence ref is refused, and verify says so
    blob = repo.git("hash-object", "-w", "--stdin", input="{broken")
    head = repo.rev_parse("HEAD")
    repo.git("update-ref", f"refs/twokey/evidence/{head}/{'0' * 64}", blob)
    assert (
        main(
            [
                "evidence",
                "verify",
                "HEAD",
                "--repo",
                str(repo.path),
                "--policy",
                str(tmp_path / "policy.yml"),
            ]
        )
        == 1
    )
    assert "MALFORMED_ENVELOPE" in capsys.readouterr().out
