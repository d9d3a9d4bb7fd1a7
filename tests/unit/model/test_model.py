"""The domain types check their invariants at construction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from twokey.model import (
    ZERO_SHA,
    Alias,
    AliasKind,
    Approval,
    Change,
    Decision,
    Finding,
    FindingCode,
    Ident,
    Severity,
    UpdateKind,
    Verdict,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("alias", "expected"),
    [
        (Alias.email("  Alice@Example.COM "), "email:alice@example.com"),
        (Alias.key("ssh-ed25519 AAAAC3 alice@laptop"), "key:ssh-ed25519 AAAAC3"),
        (Alias.login(AliasKind.GITHUB, "Alice"), "github:alice"),
    ],
    ids=["email-lowercased", "key-comment-dropped", "login-lowercased"],
)
def test_alias_normal_form(alias: Alias, expected: str) -> None:
    assert str(alias) == expected
    assert Alias.parse(expected) == alias


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Alias.key("ssh-ed25519"), "not an OpenSSH public key"),
        (lambda: Alias.login(AliasKind.EMAIL, "x"), "is not a forge"),
        (lambda: Alias.parse("alice"), "must be 'kind:value'"),
        (lambda: Alias(AliasKind.EMAIL, ""), "empty or padded"),
        (lambda: Ident("a", "a@x", datetime(2026, 1, 1)), "timezone-aware"),  # noqa: DTZ001
    ],
    ids=["key-without-blob", "email-as-forge", "no-kind", "empty", "naive-time"],
)
def test_invalid_values_are_rejected(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]


def test_approval_requires_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Approval("r", "refs/heads/main", "c", "t", Alias.email("b@x"), datetime(2026, 1, 1))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("old", "new", "fast_forward", "kind"),
    [
        (ZERO_SHA, "a" * 40, True, UpdateKind.CREATE),
        ("a" * 40, ZERO_SHA, True, UpdateKind.DELETE),
        ("a" * 40, "b" * 40, True, UpdateKind.FAST_FORWARD),
        ("a" * 40, "b" * 40, False, UpdateKind.FORCE),
    ],
    ids=["create", "delete", "fast-forward", "force"],
)
def test_change_kind(old: str, new: str, fast_forward: bool, kind: UpdateKind) -> None:
    change = Change("repo", "refs/heads/main", old, new, fast_forward=fast_forward)
    assert change.kind is kind


def test_decision_to_dict_is_stable() -> None:
    finding = Finding(FindingCode.FORCE_PUSH, Severity.DENY, "history rewritten", "push forward")
    decision = Decision(Verdict.DENY, "refs/heads/main", (finding,))
    assert not decision.allowed
    assert decision.to_dict()["findings"] == [finding.to_dict()]
    assert decision.to_dict() == Decision(Verdict.DENY, "refs/heads/main", (finding,)).to_dict()
    assert NOW.tzinfo is UTC
