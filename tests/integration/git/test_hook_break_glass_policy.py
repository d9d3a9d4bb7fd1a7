"""Break-glass never excuses a policy change (issue 15 item 5, invariant 6), through real pushes."""

from __future__ import annotations

from tests.integration.git._harness import Server, policy_text, push
from tests.support.gitrepo import ERIN

EVIDENCE = "refs/twokey/*:refs/twokey/*"
ERIN_PUSHES = {"TWOKEY_PUSHER": "email:erin@example.com"}
GLASS = ("twokey.break-glass=prod is down",)


def test_break_glass_does_not_excuse_an_unapproved_policy_change(server: Server) -> None:
    erin = server.clone(ERIN)
    weaker = policy_text(server.keys.public()).replace("approvals: 1\n", "approvals: 0\n", 1)
    erin.commit({".twokey/policy.yml": weaker, "hotfix.py": "x\n"}, "Hotfix + relax", ERIN)
    before = server.head()
    result = push(erin, "main", env=ERIN_PUSHES, options=GLASS)
    assert not result.accepted
    assert "POLICY_CHANGE_UNAPPROVED" in result.findings()
    # The approval shortfall of the branch rule is excused, the policy change is not.
    assert "[overridden by break-glass]" in result.findings("!")["INSUFFICIENT_APPROVALS"]
    assert server.head() == before


def test_break_glass_does_not_excuse_an_invalid_new_policy(server: Server) -> None:
    erin = server.clone(ERIN)
    erin.commit({".twokey/policy.yml": "version: 1\nbogus: true\n"}, "Break it", ERIN)
    server.approve(erin, "frank")
    result = push(erin, "main", EVIDENCE, env=ERIN_PUSHES, options=GLASS)
    assert not result.accepted
    assert "the new policy is invalid" in result.findings()["MALFORMED_INPUT"]


def test_break_glass_still_excuses_a_plain_hotfix(server: Server) -> None:
    erin = server.clone(ERIN)
    erin.commit({"hotfix.py": "x\n"}, "Hotfix", ERIN)
    result = push(erin, "main", env=ERIN_PUSHES, options=GLASS)
    assert result.accepted, result.output
