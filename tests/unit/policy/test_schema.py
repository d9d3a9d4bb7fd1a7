"""The published JSON Schema of the policy, and the loader that enforces it (deliverable 8)."""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from twokey.cli import main
from twokey.policy import PolicyError, loads, schema_text
from twokey.policy._problems import Reporter
from twokey.policy._schema import _problems

ROOT = Path(__file__).resolve().parents[3]
SCHEMA: dict[str, Any] = json.loads(schema_text())


def _yaml(text: str) -> Any:
    return YAML(typ="rt", pure=True).load(text)


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_policy_schema_prints_the_packaged_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "schema"]) == 0
    out = capsys.readouterr().out
    assert out == (ROOT / "src/twokey/policy/policy.schema.json").read_text()
    assert json.loads(out) == SCHEMA


def _documented_policies() -> list[tuple[str, str]]:
    """Every complete policy shown to users: the examples, and yaml blocks in README and docs."""
    found = [
        (p.name, p.read_text()) for p in sorted((ROOT / "src/twokey/policy/examples").glob("*.yml"))
    ]
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        blocks = re.findall(r"```ya?ml\n(.*?)```", doc.read_text(), re.DOTALL)
        found += [
            (f"{doc.name}#{i}", b)
            for i, b in enumerate(blocks)
            if b.startswith("version: 1") and "policy_changes" in b
        ]
    return found


_DOCUMENTED = _documented_policies()


@pytest.mark.parametrize(("name", "text"), _DOCUMENTED, ids=[n for n, _ in _DOCUMENTED])
def test_every_documented_policy_fits_the_schema(name: str, text: str) -> None:
    assert list(_problems(_yaml(text))) == [], name


def test_documented_policies_were_found() -> None:
    assert len(_DOCUMENTED) >= 3


_BROKEN = [
    pytest.param(
        "version: 1\npolicy_changes: {}\npeople:\n  Bob: {}\n", (4, 3), "the name 'Bob'", id="id"
    ),
    pytest.param(
        "version: 1\npolicy_changes: {}\nbranchs: {}\n",
        (3, 1),
        "unknown key 'branchs' in the policy",
        id="top-key",
    ),
    pytest.param(
        "version: 1\npolicy_changes: {}\nbranches:\n  main:\n    approvals: 1\n"
        "    approvers: x\n    force_push: yes\n",
        (7, 17),
        "branches.main.force_push: 'yes' is not of type 'boolean'",
        id="boolean",
    ),
    pytest.param(
        "version: 1\npolicy_changes: {}\npeople:\n  a:\n    keys:\n"
        "      - key: k\n        expires: 1\n",
        (7, 9),
        "unknown key 'expires' in people.a.keys[0]",
        id="key-entry",
    ),
    pytest.param(
        "version: 1\npolicy_changes: {exclude: [authors, nobody]}\n",
        (2, 37),
        "policy_changes.exclude[1]: 'nobody' is not one of",
        id="enum",
    ),
    pytest.param(
        "people: {}\npolicy_changes: {}\n",
        (1, 1),
        "'version' is a required property",
        id="required",
    ),
]


@pytest.mark.parametrize(("text", "where", "message"), _BROKEN)
def test_schema_problems_are_placed_at_line_and_column(
    text: str, where: tuple[int, int], message: str
) -> None:
    found = [(line + 1, column + 1, m) for line, column, m in _problems(_yaml(text))]
    assert any((ln, col) == where and message in m for ln, col, m in found), found


def test_the_loader_enforces_the_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the hand-written unknown-key check, the schema still refuses a misspelt key."""
    monkeypatch.setattr(Reporter, "unknown_keys", lambda *_args: None)
    text = (
        "version: 1\npeople: {bob: {}, carol: {}}\nbranches:\n"
        "  main: {approvals: 1, approvers: [bob], exlude: [authors]}\n"
        "policy_changes: {approvals: 1, approvers: [bob]}\n"
    )
    with pytest.raises(PolicyError) as caught:
        loads(text, "p.yml")
    [problem] = caught.value.problems
    assert str(problem).startswith("p.yml:4:42: unknown key 'exlude' in branches.main")
    assert "twokey policy schema" in problem.hint


def test_each_mistake_is_said_once() -> None:
    """A line the hand-written checks reported gets no second, schema-worded problem."""
    text = (
        "version: 1\npeople: {bob: {emial: x}}\npolicy_changes: {approvals: 1, approvers: [bob]}\n"
    )
    with pytest.raises(PolicyError) as caught:
        loads(text, "p.yml")
    assert [p.line for p in caught.value.problems] == [2]
    assert "did you mean 'emails'" in caught.value.problems[0].hint


# --- the loader's keys and the schema's keys are the same, everywhere -----------------------

_EVERYTHING = """\
version: 1
people:
  alice: {name: A, emails: [a@x.test], keys: [{key: "ssh-ed25519 AAAA", revoked: false}]}
services:
  ci: {name: CI, emails: [ci@x.test], directed_by: [alice]}
groups:
  devs: [alice]
branches:
  main:
    approvals: 1
    approvers: [alice]
    checks: {require: [tests], signers: [ci]}
    owners:
      "docs/**": {approvals: 1, approvers: [alice]}
tags:
  "v*": {approvals: 1, approvers: [alice]}
environments:
  production:
    from: [main]
    deployers: [ci]
    builders: [ci]
    checks: {require: [tests], signers: [ci]}
policy_changes: {approvals: 1, approvers: [alice]}
break_glass_reviewers: [alice]
"""


def _schema_node(where: str) -> tuple[str, dict[str, Any]]:
    """The schema object that describes the place the loader calls ``where``."""
    defs = SCHEMA["$defs"]
    if where == "the policy":
        return "root", SCHEMA
    if where == "policy_changes":
        return "policy_changes", SCHEMA["properties"]["policy_changes"]
    if where == "a key entry":
        return "key_entry", defs["key_entry"]
    if where.endswith(".checks"):
        return "checks", defs["checks"]
    if ".owners." in where:
        return "approval_rule", defs["approval_rule"]
    for prefix, name in (
        ("branches.", "ref_rule"),
        ("tags.", "ref_rule"),
        ("environments.", "environment"),
        ("people.", "person"),
        ("services.", "service"),
    ):
        if where.startswith(prefix):
            return name, defs[name]
    raise AssertionError(f"the loader checks keys at {where!r}, which the schema test cannot place")


def test_the_loader_and_the_schema_accept_the_same_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, set[str]] = {}
    original = Reporter.unknown_keys

    def record(self: Reporter, node: Any, allowed: Any, where: str) -> None:
        allowed = tuple(allowed)
        name, schema = _schema_node(where)
        in_schema = set(schema["properties"])
        assert set(allowed) == in_schema, (
            f"{where} ({name}): the loader accepts {sorted(set(allowed) - in_schema)} that the "
            f"schema lacks, the schema has {sorted(in_schema - set(allowed))} that the loader "
            "refuses: update src/twokey/policy/policy.schema.json"
        )
        seen.setdefault(name, set()).update(allowed)
        original(self, node, allowed, where)

    monkeypatch.setattr(Reporter, "unknown_keys", record)
    with contextlib.suppress(PolicyError):  # the key is not real; every section is still read
        loads(_EVERYTHING)
    closed = (
        {"root"}
        | {name for name, d in SCHEMA["$defs"].items() if d.get("additionalProperties") is False}
        | {"policy_changes"}
    )
    assert set(seen) == closed, "a closed object in the schema that the loader never checks"


def test_a_huge_value_is_quoted_short() -> None:
    text = "version: 1\npolicy_changes: {}\nbranches:\n  main: {force_push: '" + "x" * 5000 + "'}\n"
    [(_, _, message)] = [p for p in _problems(_yaml(text)) if "force_push" in p[2]]
    assert len(message) < 200
    assert message.endswith("...")
