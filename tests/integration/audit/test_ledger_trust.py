"""The audit verifies the ledger it reads and says what that proved (issue 14, holes 1-2).

An edited row, a rewrite with every hash recomputed, or a forged approval claim must never be
counted as a record; the sources line says whether a trusted key vouched for the ledger.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.integration.audit.support import build_history, policy_file
from tests.integration.audit.test_ledger_sources import decision, forge_review
from tests.support.gitrepo import GitRepo
from twokey.audit import AuditOptions, run_audit
from twokey.cli import main
from twokey.ledger import EMPTY_ROOT, LedgerCorruptError, generate_signer, open_ledger

SIGNER = generate_signer("ledger.audit.test")


def _ledger(tmp_path: Path, repo: GitRepo, c: dict[str, str]) -> str:
    url = f"sqlite://{tmp_path / 'ledger.db'}"
    with open_ledger(url) as ledger:
        ledger.append(
            [
                decision(c["rev"], "email:bob@example.com", "allow"),
                decision(c["unrev"], "email:erin@example.com", "deny"),
            ]
        )
        ledger.checkpoint(SIGNER)  # what a door does after each batch
    return url


def _edit(url: str, index: int, old: bytes, new: bytes) -> None:
    with sqlite3.connect(url.removeprefix("sqlite://")) as db:
        (data,) = db.execute("SELECT data FROM twokey_entries WHERE idx = ?", (index,)).fetchone()
        assert old in data
        db.execute(
            "UPDATE twokey_entries SET data = ? WHERE idx = ?", (data.replace(old, new), index)
        )


@pytest.fixture
def history(tmp_path: Path) -> tuple[GitRepo, dict[str, str], Path]:
    repo = GitRepo.init(tmp_path / "r")
    return repo, build_history(repo), policy_file(tmp_path / "p")


def test_an_edited_row_is_refused_by_the_audit_and_break_glass_list(
    tmp_path: Path,
    history: tuple[GitRepo, dict[str, str], Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo, c, policy = history
    url = _ledger(tmp_path, repo, c)
    _edit(url, 1, b'"deny"', b'"allow"')
    with pytest.raises(LedgerCorruptError, match="entry 1 does not match") as caught:
        run_audit(AuditOptions(repo.path, policy=policy, ledger=url))
    assert caught.value.first_bad_index == 1
    assert "none of its records is used" in caught.value.message
    code = main(["audit", "--repo", str(repo.path), "--policy", str(policy), "--ledger", url])
    assert code == 1
    assert "does not verify" in capsys.readouterr().err
    code = main(["break-glass", "list", "--ledger", url, "--policy", str(policy)])
    assert code == 1
    assert "entry 1 does not match" in capsys.readouterr().err


def test_a_wholesale_rewrite_is_refused_against_the_signed_checkpoint(
    tmp_path: Path, history: tuple[GitRepo, dict[str, str], Path]
) -> None:
    repo, c, policy = history
    url = _ledger(tmp_path, repo, c)
    with open_ledger(url) as ledger:
        datas = [d.replace(b'"deny"', b'"allow"') for _, d in ledger.entries()]
    with sqlite3.connect(url.removeprefix("sqlite://")) as db:
        db.execute("DELETE FROM twokey_entries")
        db.execute("DELETE FROM twokey_nodes")
        db.execute("UPDATE twokey_head SET size = 0, root = ?, frontier = ?", (EMPTY_ROOT, b""))
    with open_ledger(url) as ledger:
        ledger.append_raw(datas)  # every hash recomputed: only the checkpoint disagrees
    with pytest.raises(LedgerCorruptError, match="no longer produce the checkpoint of size 2"):
        run_audit(AuditOptions(repo.path, policy=policy, ledger=url))


def test_the_sources_line_says_what_the_verification_proved(
    tmp_path: Path,
    history: tuple[GitRepo, dict[str, str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo, c, policy = history
    url = _ledger(tmp_path, repo, c)
    monkeypatch.delenv("TWOKEY_LEDGER_KEY", raising=False)

    def ledger_line() -> str:
        report = run_audit(AuditOptions(repo.path, policy=policy, ledger=url))
        try:
            [line] = [s for s in report.sources if s.startswith("ledger ")]
        finally:
            report.close()
        return line

    assert "verified; CONSISTENCY ONLY: no trusted key was given" in ledger_line()
    pub = tmp_path / "ledger.pub"
    pub.write_text(SIGNER.verifier().text() + "\n")
    monkeypatch.setenv("TWOKEY_LEDGER_KEY", str(pub))
    assert (
        "verified; the checkpoint of size 2 signed by the trusted key ledger.audit.test "
        "covers entries 0..1" in ledger_line()
    )
    other = generate_signer("ledger.audit.test")
    pub.write_text(other.verifier().text() + "\n")  # a checkpoint the trusted key did not sign
    with pytest.raises(LedgerCorruptError, match=r"is not signed by ledger\.audit\.test"):
        ledger_line()


def test_an_unsigned_approval_claim_appended_by_anyone_counts_nothing(
    tmp_path: Path, history: tuple[GitRepo, dict[str, str], Path]
) -> None:
    """Hole 1: any CI job holding ledger credentials could append "bob approved"."""
    repo, c, policy = history
    url = f"sqlite://{tmp_path / 'ledger.db'}"
    tree = repo.rev_parse(f"{c['init']}^{{tree}}")
    with open_ledger(url) as ledger:
        ledger.append([forge_review(c["init"], tree)])
    report = run_audit(AuditOptions(repo.path, policy=policy, ledger=url))
    try:
        row = {r.commit: r for r in report.changes}[c["init"]]
        assert (row.verdict, row.approvers) == ("deny", ())
        assert any(
            "1 approval claim(s) without a verifiable signature ignored" in s
            for s in (report.sources)
        )
    finally:
        report.close()


def test_the_ledger_key_flag_of_the_audit_and_break_glass_list(
    tmp_path: Path,
    history: tuple[GitRepo, dict[str, str], Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo, c, policy = history
    url = _ledger(tmp_path, repo, c)
    monkeypatch.delenv("TWOKEY_LEDGER_KEY", raising=False)
    good, other = tmp_path / "good.pub", tmp_path / "other.pub"
    good.write_text(SIGNER.verifier().text() + "\n")
    other.write_text(generate_signer("ledger.audit.test").verifier().text() + "\n")
    base = ["audit", "--repo", str(repo.path), "--policy", str(policy), "--ledger", url]
    assert main([*base, "--ledger-key", str(good), "--format", "json"]) == 0
    assert any(
        "signed by the trusted key" in s for s in json.loads(capsys.readouterr().out)["sources"]
    )
    assert main([*base, "--ledger-key", str(other)]) == 1
    assert "is not signed by" in capsys.readouterr().err
    listing = ["break-glass", "list", "--ledger", url, "--policy", str(policy)]
    assert main([*listing, "--ledger-key", str(good)]) == 0
    assert "ledger verified; the checkpoint of size 2 signed" in capsys.readouterr().out
    assert main([*listing, "--ledger-key", str(other)]) == 1
