"""Keys are judged when the gate received the evidence, never at the statement's own date, and
statements dated in the future are refused (issue 15 items 12 and 14, ADR 0013)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.integration.git._harness import REPOSITORY, Keys, Server, policy_text, push
from tests.support.gitrepo import ALICE, ERIN, GitRepo
from twokey.doors import install_hook
from twokey.evidence import GitEvidenceStore, sign_approval


def _server(root: Path, keys: Keys, bob_window: str) -> Server:
    """The usual company, bob's key limited to ``bob_window`` (policy key fields)."""
    bare = GitRepo.init(root / "server.git", bare=True)
    seed = bare.clone(root / "seed", ERIN)
    bob = keys.public()["bob"]
    text = policy_text(keys.public()).replace(
        f'keys: ["{bob}"]', f'keys: [{{key: "{bob}", {bob_window}}}]', 1
    )
    seed.commit({".twokey/policy.yml": text}, "Add the twokey policy", ERIN)
    seed.git("push", "-q", "origin", "main")
    install_hook(bare.path, repository=REPOSITORY)
    return Server(root, bare, keys)


def _approve(server: Server, clone: GitRepo, when: datetime) -> str:
    commit = clone.rev_parse("HEAD")
    envelope = sign_approval(
        server.keys.signers["bob"],
        repository=REPOSITORY,
        ref="refs/heads/main",
        commit=commit,
        tree=clone.rev_parse("HEAD^{tree}"),
        when=when,
    )
    return GitEvidenceStore(clone.path / ".git").put(envelope, commit)


def test_an_expired_key_cannot_backdate_its_statement(tmp_path: Path, keys: Keys) -> None:
    server = _server(tmp_path, keys, "valid_before: '2021-01-01T00:00:00Z'")
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    backdated = _approve(server, alice, datetime(2020, 6, 1, tzinfo=UTC))
    result = push(alice, "main", backdated)
    assert not result.accepted
    assert "KEY_EXPIRED" in result.findings("!")
    assert "INSUFFICIENT_APPROVALS" in result.findings()


def test_a_statement_dated_in_the_future_is_refused(server: Server) -> None:
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    future = _approve(server, alice, datetime.now(UTC) + timedelta(days=1))
    refused = push(alice, "main", future)
    assert not refused.accepted
    assert "FUTURE_DATED" in refused.findings("!")["MALFORMED_INPUT"]
    alice.commit({"app.py": "y\n"}, "Change again", ALICE)
    skewed = _approve(server, alice, datetime.now(UTC) + timedelta(minutes=2))  # clock skew
    result = push(alice, "main", skewed)
    assert result.accepted, result.output


def test_an_earlier_receipt_in_the_ledger_keeps_a_key_valid(tmp_path: Path, keys: Keys) -> None:
    """bob's key expires between the approval's push and main's: the ledger proves when the
    gate received the approval, so it still counts; without the ledger it does not."""
    expiry = datetime.now(UTC) + timedelta(seconds=4)
    window = f"valid_before: '{expiry.isoformat(timespec='seconds')}'"
    server = _server(tmp_path, keys, window)
    ledger = tmp_path / "ledger.db"
    server.bare.git("config", "twokey.ledger", str(ledger))
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    approval = _approve(server, alice, datetime.now(UTC))
    assert push(alice, approval).accepted  # received (and recorded) while bob's key is valid
    time.sleep(max(0.0, (expiry - datetime.now(UTC)).total_seconds()) + 1.5)
    server.bare.git("config", "--unset", "twokey.ledger")
    without = push(alice, "main")
    assert not without.accepted
    assert "KEY_EXPIRED" in without.findings("!")
    server.bare.git("config", "twokey.ledger", str(ledger))
    with_ledger = push(alice, "main")
    assert with_ledger.accepted, with_ledger.output


def test_evidence_received_before_a_key_became_valid_never_counts(
    tmp_path: Path, keys: Keys
) -> None:
    start = datetime.now(UTC) + timedelta(seconds=4)
    server = _server(tmp_path, keys, f"valid_after: '{start.isoformat(timespec='seconds')}'")
    ledger = tmp_path / "ledger.db"
    server.bare.git("config", "twokey.ledger", str(ledger))
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Change", ALICE)
    early = _approve(server, alice, datetime.now(UTC))
    assert push(alice, early).accepted  # stored and recorded before bob's key is valid
    time.sleep(max(0.0, (start - datetime.now(UTC)).total_seconds()) + 1.5)
    result = push(alice, "main")
    assert not result.accepted
    assert "KEY_EXPIRED" in result.findings("!")
