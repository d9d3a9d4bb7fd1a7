"""Every recording door signs a checkpoint after each batch (issue 14, hole 3; ADR 0015).

Real pushes through the installed hook and ``twokey check --ledger`` in a real checkout: once a
door signed, a log rewritten wholesale (every hash recomputed) no longer verifies.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.git._harness import REPOSITORY, Keys, Server, policy_text, push
from tests.support.gitrepo import ALICE, ERIN, GitRepo
from twokey.cli import main
from twokey.doors import install_hook
from twokey.ledger import LedgerCorruptError, NoteSigner, generate_signer, open_ledger

EVIDENCE = "refs/twokey/*:refs/twokey/*"


def _key(tmp_path: Path) -> tuple[Path, NoteSigner]:
    signer = generate_signer("ledger.shop.test")
    path = tmp_path / "ledger.key"
    path.write_text(signer.text() + "\n")
    path.chmod(0o600)
    return path, signer


def test_the_hook_signs_a_checkpoint_after_every_recorded_push(
    server: Server, tmp_path: Path
) -> None:
    key, signer = _key(tmp_path)
    ledger = str(tmp_path / "ledger.db")
    install_hook(server.bare.path, ledger=ledger, ledger_key=key, force=True)
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    assert not push(alice, "main").accepted  # a deny is recorded, and signed, too
    server.approve(alice, "bob")
    assert push(alice, "main", EVIDENCE).accepted
    with open_ledger(ledger) as log:
        size = log.size()
        sizes = [c.size for c in log.checkpoints()]
        report = log.verify(signer.verifier())
    assert sizes[-1] == size
    assert len(sizes) >= 2
    assert report.signed == size
    with open_ledger(ledger) as log:  # someone rewrites the whole log, hashes and all
        datas = [data.replace(b'"deny"', b'"allow"') for _, data in log.entries()]
        store = log.store
        for table in ("twokey_entries", "twokey_nodes"):
            store._exec(f"DELETE FROM {table}")  # type: ignore[attr-defined]
        store._exec(  # type: ignore[attr-defined]
            "UPDATE twokey_head SET size = 0, root = ?, frontier = ?",
            (
                bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
                b"",
            ),
        )
        log.append_raw(datas)
        with pytest.raises(LedgerCorruptError, match="no longer produce the checkpoint"):
            log.verify(signer.verifier())


def test_a_signing_key_that_cannot_be_read_denies_and_writes_nothing(
    server: Server, tmp_path: Path
) -> None:
    ledger = str(tmp_path / "ledger.db")
    install_hook(server.bare.path, ledger=ledger, ledger_key=tmp_path / "missing.key", force=True)
    alice = server.clone(ALICE)
    alice.git("checkout", "-q", "-b", "topic")
    alice.commit({"app.py": "x\n"}, "WIP", ALICE)
    result = push(alice, "topic")
    assert not result.accepted
    assert "INTERNAL_ERROR: cannot read the ledger signing key" in result.output
    with open_ledger(ledger) as log:
        assert log.size() == 0


def test_check_signs_with_the_ci_jobs_key(
    tmp_path: Path,
    keys: Keys,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key, signer = _key(tmp_path)
    repo = GitRepo.init(tmp_path / "work")
    repo.commit({".twokey/policy.yml": policy_text(keys.public())}, "Policy", ERIN)
    repo.git("config", "twokey.repository", REPOSITORY)
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"app.py": "x\n"}, "Feature", ALICE)
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    monkeypatch.setenv("TWOKEY_LEDGER_SIGNING_KEY", str(key))
    argv = ["check", "--repo", str(repo.path), "--base", "main", "--head", "feature"]
    assert main([*argv, "--ref", "main", "--ledger", ledger]) == 1
    capsys.readouterr()
    with open_ledger(ledger) as log:
        assert [c.size for c in log.checkpoints()] == [log.size()] == [1]
        assert log.verify(signer.verifier()).signed == 1
    monkeypatch.setenv("TWOKEY_LEDGER_SIGNING_KEY", str(tmp_path / "nope"))
    assert main([*argv, "--ref", "main", "--ledger", ledger]) == 3
    assert "cannot read the ledger signing key" in capsys.readouterr().out
