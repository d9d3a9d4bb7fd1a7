"""docs/policy.md stays true: its examples load and its glob tables match what the code does."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.unit.policy.support import EXAMPLE
from twokey.policy import GlobKind, glob_to_regex, loads

DOC = Path(__file__).resolve().parents[3] / "docs/policy.md"
_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)
_CODE = re.compile(r"`([^`]+)`")


def _yaml(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(io.StringIO(text))


def _blocks() -> list[str]:
    return _BLOCK.findall(DOC.read_text())


def _table(header: str) -> list[list[str]]:
    """The body rows of the markdown table whose header row starts with ``header``."""
    lines = DOC.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_the_complete_example_is_the_shipped_example_file() -> None:
    complete = [b for b in _blocks() if b.startswith("version: 1") and "policy_changes:" in b]
    assert len(complete) == 1
    assert _yaml(complete[0]) == _yaml(EXAMPLE.read_text())
    policy = loads(complete[0], "docs/policy.md")
    assert len(policy.principals) == 7


def test_every_fragment_is_valid_yaml() -> None:
    # Fragments are shown at the indentation they have in a policy; dedent before parsing.
    for block in _blocks():
        indent = min(len(line) - len(line.lstrip()) for line in block.splitlines() if line)
        assert _yaml("\n".join(line[indent:] for line in block.splitlines())) is not None


def _glob_rows() -> list[tuple[str, GlobKind, list[str], list[str]]]:
    rows = []
    for pattern, kind, good, bad in _table("| pattern | kind | matches | does not match |"):
        (text,) = _CODE.findall(pattern)
        rows.append((text, GlobKind(kind), _CODE.findall(good), _CODE.findall(bad)))
    return rows


@pytest.mark.parametrize(("pattern", "kind", "good", "bad"), _glob_rows(), ids=str)
def test_glob_table(pattern: str, kind: GlobKind, good: list[str], bad: list[str]) -> None:
    regex = glob_to_regex(pattern, kind)
    assert [p for p in good if not regex.fullmatch(p)] == []
    assert [p for p in bad if regex.fullmatch(p)] == []


def test_the_glob_table_was_found() -> None:
    assert len(_glob_rows()) >= 8
