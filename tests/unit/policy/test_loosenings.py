"""A valid policy that loosens a default invariant says so, at the line, on every check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.policy.support import EXAMPLE, HEAD, TAIL
from twokey.cli import main
from twokey.model import RuleRef
from twokey.policy import Loosening, load, loads, loosenings

SERVICE = "services:\n  ci: {}\n"
ENV = "environments:\n  prod:\n    from: [main]\n    deployers: [ci]\n    approvers: [bob]\n"
ENV += "    builders: [ci]\n"

# id: (policy text, [(line, column, invariant, message)])
CASES: dict[str, tuple[str, list[tuple[int, int, int, str]]]] = {
    "defaults-loosen-nothing": (HEAD + SERVICE + "branches:\n  main: {approvers: [bob]}\n", []),
    "force-push-and-deletion": (
        HEAD + "branches:\n  main: {approvers: [bob], force_push: true, deletion: true}\n",
        [
            (6, 3, 1, "refs/heads/main may be deleted"),
            (6, 3, 1, "refs/heads/main may be force-pushed"),
        ],
    ),
    "open-ref": (
        HEAD + "branches:\n  'sandbox/**': {approvals: 0}\n",
        [(6, 18, 1, "refs/heads/sandbox/** need no approval")],
    ),
    "self-approval": (
        HEAD + "branches:\n  main: {approvers: [bob], exclude: [committers]}\n",
        [(6, 10, 3, "refs/heads/main: authors, co-authors may approve (not excluded)")],
    ),
    "unknown-authors-allowed": (
        HEAD + "branches:\n  main: {approvers: [bob], unknown_authors: allow}\n",
        [
            (
                6,
                3,
                3,
                "refs/heads/main: commits by authors the policy does not know may land "
                "(unknown_authors: allow)",
            )
        ],
    ),
    "signed-and-unknown-denied-loosen-nothing": (
        HEAD + "branches:\n  main: {approvers: [bob], signed_commits: true, "
        "unknown_authors: deny}\n",
        [],
    ),
    "trailers-count": (
        HEAD + "branches:\n  main: {approvers: [bob], accept: [signed, trailer]}\n",
        [(6, 10, 11, "refs/heads/main: unverified trailer approvals count")],
    ),
    "owner-without-exclusions": (
        HEAD + "branches:\n  main:\n    approvers: [bob]\n    owners:\n"
        "      'deploy/': {approvers: [alice], exclude: []}\n",
        [
            (
                9,
                19,
                3,
                "owners of deploy/ on refs/heads/main: authors, committers, co-authors may "
                "approve (not excluded)",
            )
        ],
    ),
    "deploy-without-separation": (
        HEAD + SERVICE + ENV + "    separate: [authors]\n",
        [(11, 5, 5, "deploys to prod: approvers may approve (not excluded)")],
    ),
    "checks-from-trailers": (
        HEAD + SERVICE + "branches:\n  main:\n    approvers: [bob]\n"
        "    checks: {require: [tests], signers: [ci], accept: [trailer]}\n",
        [(10, 5, 13, "checks on refs/heads/main: unverified trailer results count")],
    ),
}


@pytest.mark.parametrize(("text", "expected"), CASES.values(), ids=CASES.keys())
def test_loosenings(text: str, expected: list[tuple[int, int, int, str]]) -> None:
    found = loosenings(loads(text + TAIL, "p.yml"))
    assert [(f.rule.line, f.rule.column, f.invariant, f.message) for f in found] == expected


def test_policy_changes_accepting_trailers_is_loud() -> None:
    policy = loads(HEAD + "policy_changes: {approvals: 1, approvers: [bob], accept: [trailer]}\n")
    assert [f.message for f in loosenings(policy)] == [
        "policy changes: unverified trailer approvals count"
    ]


def test_the_example_loosens_nothing() -> None:
    assert loosenings(load(EXAMPLE)) == ()


def test_loosening_is_a_checked_value_object() -> None:
    rule = RuleRef("p.yml", 3, 5, "branches.refs/heads/main")
    loosening = Loosening(rule, 1, "refs/heads/main may be deleted")
    assert str(loosening) == "p.yml:3:5: refs/heads/main may be deleted (loosens invariant 1)"
    assert loosening.to_dict()["invariant"] == 1
    with pytest.raises(ValueError, match="13 invariants"):
        Loosening(rule, 14, "x")
    with pytest.raises(ValueError, match="needs a message"):
        Loosening(rule, 1, "")


def test_check_says_it_out_loud(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.yml"
    path.write_text(HEAD + "branches:\n  main: {approvers: [bob], force_push: true}\n" + TAIL)
    assert main(["policy", "check", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"ok: {path}: 2 people")
    assert lines[1:] == [
        f"note: {path}:6:3: refs/heads/main may be force-pushed (loosens invariant 1)"
    ]
    assert main(["policy", "check", str(path), "--format", "json"]) == 0
    (only,) = json.loads(capsys.readouterr().out)["loosenings"]
    assert (only["invariant"], only["rule"]["line"]) == (1, 6)
    assert main(["policy", "show", str(path)]) == 0
    assert "looser than the default invariants:\n  " in capsys.readouterr().out
    assert main(["policy", "show", str(path), "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["loosenings"]) == 1
