"""Which other protected refs count as already reviewed (ADR 0011, issue 15 item 3)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.unit.engine._builders import DEFAULT_EXCLUDE, approval, checks
from twokey.engine import at_least_as_strict
from twokey.model import RuleRef, TrustLevel
from twokey.policy import Exclusion, OwnerRule, RefRule, path_glob, ref_glob

_WHERE = RuleRef("code.yml", 1, 1, "branches")
MAIN = RefRule(
    "refs/heads/main",
    ref_glob("refs/heads/main"),
    approval(1, ("bob", "carol"), "main"),
    (OwnerRule("deploy/**", path_glob("deploy/**"), approval(1, ("carol",), "o"), _WHERE),),
    None,
    False,
    False,
    _WHERE,
)


def _other(**changes: Any) -> RefRule:
    return replace(MAIN, pattern="refs/heads/other", regex=ref_glob("refs/heads/other"), **changes)


CASES = {
    "the same rule": (MAIN, MAIN, True),
    "an identical copy": (_other(), MAIN, True),
    "no approvals (sandbox)": (_other(approval=approval(0, (), "s")), MAIN, False),
    "more approvals": (_other(approval=approval(2, ("bob", "carol"), "x")), MAIN, True),
    "other approvers": (_other(approval=approval(1, ("bob", "mallory"), "x")), MAIN, False),
    "fewer exclusions": (_other(approval=approval(1, ("bob",), "x", exclude=())), MAIN, False),
    "more exclusions": (
        _other(
            approval=approval(1, ("bob",), "x", exclude={*DEFAULT_EXCLUDE, Exclusion.LAST_PUSHER})
        ),
        MAIN,
        True,
    ),
    "weaker evidence": (
        _other(approval=approval(1, ("bob",), "x", accept={TrustLevel.TRAILER})),
        MAIN,
        False,
    ),
    "without the owner rule": (_other(owners=()), MAIN, False),
    "without required checks": (_other(), replace(MAIN, checks=checks("tests")), False),
    "with the required checks": (
        _other(checks=checks("tests", "lint")),
        replace(MAIN, checks=checks("tests")),
        True,
    ),
    "force-push allowed": (_other(allow_force_push=True), MAIN, False),
    "deletion allowed": (_other(allow_deletion=True), MAIN, False),
    "anything is as strict as no bar": (
        MAIN,
        replace(MAIN, approval=approval(0, (), "s"), owners=()),
        True,
    ),
    "a tag's approvers are the release's, not the code's": (
        _other(approval=approval(1, ("bob", "carol", "erin"), "x")),
        replace(
            MAIN,
            pattern="refs/tags/v*",
            regex=ref_glob("refs/tags/v*"),
            approval=approval(1, ("bob",), "t"),
            owners=(),
        ),
        True,
    ),
}


@pytest.mark.parametrize(("other", "rule", "expected"), CASES.values(), ids=CASES.keys())
def test_at_least_as_strict(other: RefRule, rule: RefRule, expected: bool) -> None:
    assert at_least_as_strict(other, rule) is expected
