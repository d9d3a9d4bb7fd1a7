"""``twokey check`` in a CI clone whose refs/twokey/ holds hostile blobs: a warning, never exit 3
(issue 15 item 13, ADR 0013)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.integration.git._harness import NOW, REPOSITORY, Keys, policy_text
from tests.support.gitrepo import ALICE, ERIN, GitRepo
from twokey._evidence_refs import MAX_ENVELOPE_BYTES
from twokey.cli import main
from twokey.evidence import GitEvidenceStore, sign_approval


def _plant(repo: GitRepo, subject: str, content: str) -> str:
    blob = repo.git("hash-object", "-w", "--stdin", input=content)
    ref = f"refs/twokey/evidence/{subject}/{hashlib.sha256(content.encode()).hexdigest()}"
    repo.git("update-ref", ref, blob)
    return ref


def test_hostile_blobs_do_not_stop_the_check(
    tmp_path: Path, keys: Keys, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = GitRepo.init(tmp_path / "work")
    repo.commit({".twokey/policy.yml": policy_text(keys.public())}, "Policy", ERIN)
    repo.git("config", "twokey.repository", REPOSITORY)
    repo.git("checkout", "-q", "-b", "feature")
    head = repo.commit({"app.py": "x\n"}, "Feature", ALICE)
    deep = _plant(repo, head, "[" * 30_000 + "]" * 30_000)
    huge = _plant(repo, head, "x" * (MAX_ENVELOPE_BYTES * 20))
    envelope = sign_approval(
        keys.signers["bob"],
        repository=REPOSITORY,
        ref="refs/heads/main",
        commit=head,
        tree=repo.rev_parse("HEAD^{tree}"),
        when=NOW,
    )
    GitEvidenceStore(repo.path / ".git").put(envelope, head)
    code = main(["check", "--repo", str(repo.path), "--base", "main", "--head", "feature",
                 "--ref", "main"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{deep}" in out
    assert "nested deeper than 32 levels" in out
    assert f"envelope is too big: {MAX_ENVELOPE_BYTES * 20} bytes" in out
    assert huge in out
