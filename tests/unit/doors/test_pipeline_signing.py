"""A door signs a checkpoint after its record (ADR 0015): the deploy door through the pipeline."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from twokey.doors import recorded
from twokey.ledger import DeployRecord, generate_signer, open_ledger, parse_entry, read_record
from twokey.ledger import to_entry as record_entry
from twokey.model import Decision, Verdict

NOW = datetime(2026, 11, 25, 14, tzinfo=UTC)
ALLOW = Decision(Verdict.ALLOW, "deploy of sha256:aaaa to production")
DEPLOY = DeployRecord(
    "deploy-check",
    "shop",
    "production",
    "sha256:" + "a" * 64,
    "c" * 40,
    "email:ci@example.com",
    "email:ci@example.com",
    None,
    (),
    ALLOW.to_dict(),
    "refs/heads/main at origin",
)


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_the_deploy_record_is_covered_by_a_signed_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    signer = generate_signer("ledger.deploy.test")
    key = tmp_path / "ledger.key"
    key.write_text(signer.text() + "\n")
    if how == "environment":
        monkeypatch.setenv("TWOKEY_LEDGER_SIGNING_KEY", str(key))
    url = f"sqlite://{tmp_path / 'ledger.db'}"
    entry = record_entry(DEPLOY, NOW)
    assert recorded([ALLOW], [entry], url, str(key) if how == "argument" else None) == [ALLOW]
    with open_ledger(url) as log:
        assert log.verify(signer.verifier()).signed == log.size() == 1
        [record] = [read_record(parse_entry(data)) for _, data in log.entries()]
    assert record == DEPLOY
    assert isinstance(record, DeployRecord)
    assert record.happened
    assert record.policy == "refs/heads/main at origin"


def test_a_signing_key_that_cannot_be_read_denies_the_deploy_and_writes_nothing(
    tmp_path: Path,
) -> None:
    url = f"sqlite://{tmp_path / 'ledger.db'}"
    [decision] = recorded([ALLOW], [record_entry(DEPLOY, NOW)], url, str(tmp_path / "missing"))
    assert not decision.allowed
    assert "cannot read the ledger signing key" in decision.findings[0].message
    with open_ledger(url) as log:
        assert log.size() == 0
