"""The generated policy validator (ADR 0019): current, and never looser than ``jsonschema``.

The loader trusts ``_schema_fast`` to say "conforms" and asks ``jsonschema`` only when it
refuses. So the one thing that must never happen: the generated code accepts a document that
``jsonschema`` refuses. These tests mutate real policies at random places with random values
and check exactly that, on the documents as the loader sees them (ruamel's round-trip types).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from twokey.policy import schema_text
from twokey.policy._schema import conforms

ROOT = Path(__file__).resolve().parents[3]
SCHEMA: dict[str, Any] = json.loads(schema_text())
FULL = Draft202012Validator(SCHEMA)

_WORDS = [
    "version", "people", "services", "groups", "branches", "tags", "environments", "main",
    "policy_changes", "approvals", "approvers", "exclude", "accept", "keys", "key", "emails",
    "name", "revoked", "valid_after", "checks", "require", "signers", "owners", "from",
    "deployers", "builders", "separate", "freeze", "break_glass", "force_push", "deletion",
    "signed_commits", "unknown_authors", "move", "directed_by", "authors", "signed", "deny",
    "allow", "Bob", "bob", "-x", "a\n", "",
]  # fmt: skip

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 3),
    st.sampled_from([1.0, 1.5, -0.0]),
    st.sampled_from(_WORDS),
    st.text(max_size=4),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(_WORDS), inner, max_size=3),
    ),
    max_leaves=8,
)


def _yaml(text: str) -> Any:
    return YAML(typ="rt", pure=True).load(text)


def _policies() -> list[str]:
    texts = [p.read_text() for p in sorted((ROOT / "src/twokey/policy/examples").glob("*.yml"))]
    texts.append(
        (ROOT / "tests/unit/policy/test_schema.py").read_text().split('_EVERYTHING = """\\\n')[1]
    )
    return [t.split('"""')[0] for t in texts]


_POLICIES = _policies()


def _places(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in ``node`` (the root included)."""
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _places(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _places(value, (*path, i))
    return found


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    node = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return doc


def test_the_generated_module_is_current() -> None:
    """Regenerating it from the schema gives the checked-in file, byte for byte."""
    script = ROOT / "scripts/policy_validator.py"
    done = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("text", _POLICIES)
def test_real_policies_pass_the_fast_path(text: str) -> None:
    doc = _yaml(text)
    assert not list(FULL.iter_errors(doc))
    assert conforms(doc)  # else every door would import jsonschema after all


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_fast_validator_never_accepts_what_jsonschema_refuses(data: st.DataObject) -> None:
    doc = _yaml(data.draw(st.sampled_from(_POLICIES)))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_places(doc)))
        doc = _set(doc, path, data.draw(_VALUES))
    if conforms(doc):
        assert not list(FULL.iter_errors(doc)), doc


@settings(max_examples=300, deadline=None)
@given(_VALUES)
def test_any_document_at_all(doc: Any) -> None:
    if conforms(doc):
        assert not list(FULL.iter_errors(doc)), doc


def test_a_refusal_goes_to_jsonschema_and_is_placed() -> None:
    """The fast path refusing is only the start: the problem still has its line and column."""
    from twokey.policy._schema import _problems  # noqa: PLC0415

    doc = _yaml("version: 1\npolicy_changes: {}\nbranches:\n  main: {approvals: -1}\n")
    assert not conforms(doc)
    [(line, column, message)] = _problems(doc)
    assert (line + 1, column + 1) == (4, 21)
    assert "less than the minimum of 0" in message
