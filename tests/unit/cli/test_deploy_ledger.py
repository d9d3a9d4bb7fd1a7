"""``twokey deploy check --ledger``: the decision is recorded before it stands (invariant 9)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from twokey.cli._deploy import _recorded
from twokey.git._process import Plumbing
from twokey.ledger import EntryKind, open_ledger, parse_entry
from twokey.model import Alias, Decision, DeployRequest, FindingCode, Verdict

NOW = datetime(2026, 11, 25, 14, tzinfo=UTC)
REQUEST = DeployRequest(
    "production:sha256:abc",
    "example.com/shop",
    "production",
    "sha256:" + "a" * 64,
    "c" * 40,
    Alias.email("dave@example.com"),
    Alias.email("ci@example.com"),
    NOW,
)
ALLOW = Decision(Verdict.ALLOW, "deploy of sha256:aaaa to production")


def _args(ledger: str) -> argparse.Namespace:
    return argparse.Namespace(ledger=ledger, since="v1.0")


def test_the_deploy_entry_holds_the_request_and_the_decision(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'ledger.db'}"
    assert (
        _recorded(ALLOW, REQUEST, ["sha256:" + "e" * 64], _args(url), Plumbing(tmp_path)) is ALLOW
    )
    with open_ledger(url) as log:
        [entry] = [parse_entry(data) for _, data in log.entries()]
    assert entry.kind is EntryKind.DEPLOY
    body = entry.body
    assert (body["environment"], body["commit"], body["deployer"]) == (
        "production",
        "c" * 40,
        "email:ci@example.com",
    )
    assert (body["requester"], body["since"], body["door"]) == (
        "email:dave@example.com",
        "v1.0",
        "deploy-check",
    )
    assert body["decision"]["verdict"] == "allow"
    assert body["evidence"] == ["sha256:" + "e" * 64]


def test_a_ledger_that_cannot_be_written_turns_the_allow_into_a_deny(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory\n")
    url = f"sqlite://{tmp_path / 'a-file' / 'ledger.db'}"
    decision = _recorded(ALLOW, REQUEST, ["sha256:" + "e" * 64], _args(url), Plumbing(tmp_path))
    assert not decision.allowed
    [finding] = decision.findings
    assert finding.code is FindingCode.INTERNAL_ERROR
    assert "cannot write the ledger" in finding.message
