"""``move: true`` on a tag rule (ADR 0011): loaded for tags, a load error on branches."""

from __future__ import annotations

import pytest

from twokey.policy import PolicyError, loads, loosenings

BASE = (
    "version: 1\npeople:\n  bob: {emails: [bob@example.com]}\n  al: {emails: [al@example.com]}\n"
    "policy_changes: {approvals: 2, approvers: [bob, al]}\n"
)


def test_a_tag_rule_may_allow_moving() -> None:
    policy = loads(BASE + 'tags:\n  "v*": {approvals: 1, approvers: [bob], move: true}\n', "p.yml")
    assert policy.refs[0].allow_move is True
    assert [lo.message for lo in loosenings(policy)] == ["refs/tags/v* may be moved once created"]
    assert loads(BASE + 'tags:\n  "v*": {approvals: 0}\n', "p.yml").refs[0].allow_move is False


def test_move_on_a_branch_is_a_load_error() -> None:
    text = BASE + "branches:\n  main: {approvals: 1, approvers: [bob], move: true}\n"
    with pytest.raises(PolicyError, match=r"p.yml:7:\d+: .*'move' applies to tags only"):
        loads(text, "p.yml")
