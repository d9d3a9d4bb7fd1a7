"""The policy's JSON Schema: published for editors, and enforced by the loader.

``policy.schema.json`` (package data) is the structural contract of ``.twokey/policy.yml``:
which sections and keys exist and what type each value has. Editors use it to complete and
check a policy as it is typed (``twokey policy schema``); the loader runs it on every policy
it compiles, so the published schema and the loader cannot drift apart: anything the schema
refuses, the loader refuses, with the problem at file:line:column like every other.

The loader's hand-written checks stay: they say what a structure means (names that exist,
thresholds that can be met, keys that parse) and give better hints. A schema problem on a
line that a hand-written check already reported is left out, so each mistake is said once.

A conforming policy is confirmed by ``_schema_fast`` (the schema generated into plain code by
``scripts/policy_validator.py``, a unit test keeps it current); ``jsonschema`` (about 75 ms to
import) runs only when that code refuses, to report every problem with its position. A door in
a CI clone compiles the policy on every run, so this is most of its start-up (ADR 0019). The
generated code may be stricter than ``jsonschema``, never looser (a property test): what it
refuses, ``jsonschema`` judges.
"""

from __future__ import annotations

__all__ = ["check_schema", "conforms", "schema_text"]

from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twokey.policy._problems import Reporter, item_position, key_position, value_position

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

_HINT = "the policy's structure: twokey policy schema; reference: docs/policy.md"


_SCHEMA = Path(__file__).with_name("policy.schema.json")  # package data, beside this module


def schema_text() -> str:
    """The schema exactly as published (``twokey policy schema``)."""
    return _SCHEMA.read_text(encoding="utf-8")


@cache
def _validator() -> Validator:
    import json  # noqa: PLC0415 - start-up time, see above

    from jsonschema import Draft202012Validator  # noqa: PLC0415

    schema = json.loads(schema_text())
    return Draft202012Validator(_inlined(schema, schema.pop("$defs", {})))


def _inlined(node: Any, defs: dict[str, Any]) -> Any:
    """``node`` with every local ``$ref`` replaced by its definition (the schema has no cycle).

    Validation runs about twice as fast without reference lookups, and the published file
    keeps its readable ``$defs``.
    """
    if isinstance(node, list):
        return [_inlined(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        return _inlined({**defs[node["$ref"].removeprefix("#/$defs/")], **siblings}, defs)
    return {key: _inlined(value, defs) for key, value in node.items()}


def check_schema(doc: Any, report: Reporter) -> None:
    """Report every place ``doc`` (a parsed policy, with positions) breaks the schema.

    Problems on a line that already has one are left out (the hand-written check said it).
    """
    if doc is None:
        return
    taken = {problem.line for problem in report.problems}
    for line, column, message in _problems(doc):
        if line + 1 not in taken:
            report.at(line, column, message, _HINT)
            taken.add(line + 1)


def conforms(doc: Any) -> bool:
    """True when the generated validator accepts ``doc``; False says "ask ``jsonschema``"."""
    from twokey.policy._schema_fast import validate  # noqa: PLC0415 - a compiling door only

    try:
        validate(doc)
    except Exception:  # any refusal or surprise: the full validator decides
        return False
    return True


def _problems(doc: Any) -> Iterator[tuple[int, int, str]]:
    if conforms(doc):
        return
    from jsonschema.exceptions import best_match  # noqa: PLC0415

    for error in _validator().iter_errors(doc):
        # anyOf/oneOf: say what the closest alternative wants, not "no alternative fits"
        combined = error.validator in ("anyOf", "oneOf") and error.context
        yield from _located(doc, (best_match(error.context) if combined else None) or error)


def _located(doc: Any, error: ValidationError) -> Iterator[tuple[int, int, str]]:
    """One problem per offending key for unknown keys; else one at the value's position."""
    path = list(error.absolute_path)
    where = _dotted(path)
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        node = _node(doc, path)
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        for key in node:
            if key not in known:
                line, column = key_position(node, key)
                yield line, column, f"unknown key '{key}' in {where}"
        return
    if "propertyNames" in error.absolute_schema_path:  # about a key, not a value
        node = _node(doc, path)
        line, column = key_position(node, error.instance)
        yield line, column, f"{where}: the name {_short(error.message)}"
        return
    line, column = _position(doc, path)
    yield line, column, f"{where}: {_short(error.message)}"


def _short(message: str, limit: int = 160) -> str:
    """jsonschema quotes the offending value whole: a pushed policy must not flood the pusher."""
    return message if len(message) <= limit else f"{message[: limit - 3]}..."


def _node(doc: Any, path: Sequence[object]) -> Any:
    node = doc
    for step in path:
        node = node[step]
    return node


def _position(doc: Any, path: Sequence[object]) -> tuple[int, int]:
    """The 0-based position of the value at ``path`` (the document's start for the root)."""
    if not path:
        return 0, 0
    parent = _node(doc, path[:-1])
    last = path[-1]
    if isinstance(last, int) and isinstance(parent, list):
        return item_position(parent, last)
    return value_position(parent, last)


def _dotted(path: Sequence[object]) -> str:
    if not path:
        return "the policy"
    return "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path)[1:]
