"""``deploy check --ledger`` signs a checkpoint after its record, like every door (ADR 0015)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.cli.test_deploy_ledger import ALLOW, REQUEST, _args
from twokey.cli._deploy import _recorded
from twokey.git._process import Plumbing
from twokey.ledger import DeployRecord, generate_signer, open_ledger, parse_entry, read_record


def test_the_deploy_record_is_covered_by_a_signed_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signer = generate_signer("ledger.deploy.test")
    key = tmp_path / "ledger.key"
    key.write_text(signer.text() + "\n")
    monkeypatch.setenv("TWOKEY_LEDGER_SIGNING_KEY", str(key))
    url = f"sqlite://{tmp_path / 'ledger.db'}"
    assert _recorded(ALLOW, REQUEST, [], _args(url), Plumbing(tmp_path)) is ALLOW
    with open_ledger(url) as log:
        assert log.verify(signer.verifier()).signed == log.size() == 1
        [record] = [read_record(parse_entry(data)) for _, data in log.entries()]
    assert isinstance(record, DeployRecord)
    assert record.happened


def test_a_signing_key_that_cannot_be_read_denies_the_deploy_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWOKEY_LEDGER_SIGNING_KEY", str(tmp_path / "missing.key"))
    url = f"sqlite://{tmp_path / 'ledger.db'}"
    decision = _recorded(ALLOW, REQUEST, [], _args(url), Plumbing(tmp_path))
    assert not decision.allowed
    assert "cannot read the ledger signing key" in decision.findings[0].message
    with open_ledger(url) as log:
        assert log.size() == 0
