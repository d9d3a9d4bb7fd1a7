"""Globs and the policy file's shape, through the installed hook and the CLI (issue 15,
items 8 and 13; ADR 0012)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.git._harness import Server, push
from tests.support.gitrepo import ALICE
from twokey.cli import main

EVIDENCE = "refs/twokey/*:refs/twokey/*"
NAMES = {
    "newline": "deploy/evil\n.yml",
    "newline-directory": "deploy/a\nb/c.yml",
    "carriage-return": "deploy/x\r",
    "tab": "deploy/\t.yml",
}


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
def test_an_owned_path_with_control_characters_is_still_owned(server: Server, name: str) -> None:
    """``deploy/**`` is carol's: a newline in the file name does not escape it."""
    alice = server.clone(ALICE)
    alice.commit({name: "replicas: 0\n"}, "sneak a deploy change", ALICE)
    assert len(alice.git("ls-files", "-z").split("\0")) == 4  # policy, README, the file, ""
    server.approve(alice, "bob")
    result = push(alice, "main", EVIDENCE)
    assert not result.accepted, result.output
    assert set(result.findings()) == {"OWNER_APPROVAL_MISSING"}
    server.approve(alice, "carol")
    assert push(alice, "main", EVIDENCE).accepted


def test_a_deeply_nested_policy_is_a_policy_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "policy.yml"
    path.write_text("version: 1\nx: " + "[" * 50_000 + "]" * 50_000 + "\n")
    assert main(["policy", "check", str(path)]) == 2
    out = "".join(capsys.readouterr())
    assert "the policy is nested more than 32 levels deep" in out
    assert "RecursionError" not in out


def test_pushing_a_deeply_nested_policy_is_refused(server: Server) -> None:
    erin = server.clone(ALICE)
    erin.commit({".twokey/policy.yml": "version: 1\nx: " + "{a: " * 50_000 + "}" * 50_000},
                "nest", ALICE)  # fmt: skip
    result = push(erin, "main")
    assert not result.accepted
    assert "the new policy is invalid" in result.findings()["MALFORMED_INPUT"]
    assert "the policy is nested more than 32 levels deep" in result.output
