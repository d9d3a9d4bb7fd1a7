"""The door pipeline: decisions are recorded before they stand (invariant 9), exit codes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from twokey.doors import answer, door_deny, exit_code, recorded
from twokey.errors import ExitCode
from twokey.ledger import Entry, EntryKind, open_ledger, parse_entry
from twokey.model import Decision, FindingCode, Verdict

NOW = datetime(2026, 11, 25, 14, tzinfo=UTC)
ALLOW = Decision(Verdict.ALLOW, "deploy of sha256:aaaa to production")
ENTRY = Entry(EntryKind.DEPLOY, {"door": "deploy-check", "commit": "c" * 40}, NOW)


def test_the_entry_is_in_the_ledger_when_the_decision_stands(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'ledger.db'}"
    assert recorded([ALLOW], [ENTRY], url) == [ALLOW]
    with open_ledger(url) as log:
        [entry] = [parse_entry(data) for _, data in log.entries()]
    assert entry.kind is EntryKind.DEPLOY
    assert entry.body == {"door": "deploy-check", "commit": "c" * 40}


def test_a_ledger_that_cannot_be_written_turns_the_allow_into_a_deny(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory\n")
    url = f"sqlite://{tmp_path / 'a-file' / 'ledger.db'}"
    [decision] = recorded([ALLOW], [ENTRY], url)
    assert not decision.allowed
    [finding] = decision.findings
    assert finding.code is FindingCode.INTERNAL_ERROR
    assert "cannot write the ledger" in finding.message
    assert exit_code([decision]) is ExitCode.INTERNAL


def test_without_a_ledger_nothing_is_recorded() -> None:
    assert recorded([ALLOW], [ENTRY], "") == [ALLOW]


@pytest.mark.parametrize(
    ("decisions", "code"),
    [
        ([ALLOW], ExitCode.ALLOW),
        ([ALLOW, door_deny("x", FindingCode.FORCE_PUSH, "no", "yes")], ExitCode.DENY),
        ([door_deny("x", FindingCode.INTERNAL_ERROR, "broken", "fix")], ExitCode.INTERNAL),
    ],
    ids=["allow", "deny", "internal"],
)
def test_exit_codes(decisions: list[Decision], code: ExitCode) -> None:
    assert exit_code(decisions) is code


def test_json_answer_names_the_policy() -> None:
    assert '"policy": "origin refs/heads/main:.twokey/policy.yml"' in answer(
        [ALLOW], "json", "origin refs/heads/main:.twokey/policy.yml"
    )
