"""Inputs that look valid but would weaken or confuse the policy are refused, at their position."""

from __future__ import annotations

import pytest

from tests.unit.policy.support import HEAD, TAIL
from twokey.policy import PolicyError, loads

SERVICE = "services:\n  ci: {}\n"

# id: (policy text, line, column, message fragment)
REFUSED: dict[str, tuple[str, int, int, str]] = {
    # "$" would accept an id with a trailing newline: a second, look-alike principal.
    "person-id-trailing-newline": (
        'version: 1\npeople:\n  "bob\\n": {}\n  bob: {}\n' + TAIL,
        3,
        3,
        "invalid id 'bob\n'",
    ),
    "environment-name-trailing-newline": (
        HEAD
        + SERVICE
        + 'environments:\n  "prod\\n": {from: [main], deployers: [ci], approvers: [bob],'
        + " builders: [ci]}\n"
        + TAIL,
        8,
        3,
        "invalid environment name 'prod\n'",
    ),
    # An approval rule that accepts no evidence can never be met: a misconfiguration.
    "approval-accepts-nothing": (
        HEAD + "branches:\n  main: {approvers: [bob], accept: []}\n" + TAIL,
        6,
        36,
        "branches.refs/heads/main: 'accept' lists no trust level",
    ),
    "deploy-approval-accepts-nothing": (
        HEAD
        + SERVICE
        + "environments:\n  prod: {from: [main], deployers: [ci], approvers: [bob],"
        + " builders: [ci], accept: []}\n"
        + TAIL,
        8,
        83,
        "environments.prod: 'accept' lists no trust level",
    ),
    "checks-accept-nothing": (
        HEAD
        + SERVICE
        + "branches:\n  main:\n    approvers: [bob]\n"
        + "    checks: {require: [tests], signers: [ci], accept: []}\n"
        + TAIL,
        10,
        55,
        "branches.refs/heads/main.checks: 'accept' lists no trust level",
    ),
}


@pytest.mark.parametrize(
    ("text", "line", "column", "message"), REFUSED.values(), ids=REFUSED.keys()
)
def test_refused_at_its_position(text: str, line: int, column: int, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        loads(text, "p.yml")
    found = [p for p in caught.value.problems if message in p.message]
    assert found, caught.value.diagnostics()
    assert (found[0].line, found[0].column) == (line, column), str(found[0])


def test_an_empty_accept_on_an_open_ref_is_harmless() -> None:
    # approvals: 0 asks for no evidence, so accepting none changes nothing.
    policy = loads(HEAD + "branches:\n  'sandbox/**': {approvals: 0, accept: []}\n" + TAIL)
    assert policy.refs[0].approval.accept == frozenset()


def test_an_unknown_trust_level_is_reported_once() -> None:
    with pytest.raises(PolicyError) as caught:
        loads(HEAD + "branches:\n  main: {approvers: [bob], accept: [email]}\n" + TAIL, "p.yml")
    assert [p.message for p in caught.value.problems] == ["unknown accept value 'email'"]
