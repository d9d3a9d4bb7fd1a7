"""Problems found while loading a policy, reported all at once with file:line:column."""

from __future__ import annotations

__all__ = ["PolicyError", "Problem", "Reporter"]

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from twokey.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a policy file (1-based line and column)."""

    file: str
    line: int
    column: int
    message: str
    hint: str = ""

    def __post_init__(self) -> None:
        if self.line < 1 or self.column < 1:
            raise ValueError("Problem line and column are 1-based")
        if not self.message:
            raise ValueError("a Problem needs a message")

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}:{self.column}: {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "hint": self.hint,
        }


class PolicyError(ConfigError):
    """The policy file is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        summary = f"invalid policy: {count} problem{'s' if count != 1 else ''}"
        super().__init__(
            "\n".join([summary, *(f"  {p}" for p in self.problems)]),
            hint="fix every problem listed; `twokey policy check FILE` re-checks",
        )


class Reporter:
    """Collects problems with positions taken from the YAML nodes (``lc``, as ruamel gives them)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def at(self, line: int, column: int, message: str, hint: str = "") -> None:
        """Record a problem at a 0-based YAML position."""
        self.problems.append(Problem(self.source, line + 1, column + 1, message, hint))

    def key(self, node: Any, key: object, message: str, hint: str = "") -> None:
        """Record a problem at the key ``key`` of mapping ``node``."""
        line, column = key_position(node, key)
        self.at(line, column, message, hint)

    def value(self, node: Any, key: object, message: str, hint: str = "") -> None:
        """Record a problem at the value of ``key`` in mapping ``node``."""
        line, column = value_position(node, key)
        self.at(line, column, message, hint)

    def item(self, node: Any, index: int, message: str, hint: str = "") -> None:
        """Record a problem at item ``index`` of sequence ``node``."""
        line, column = item_position(node, index)
        self.at(line, column, message, hint)

    def unknown_keys(self, node: Any, allowed: Iterable[str], where: str) -> None:
        """Report every key of ``node`` not in ``allowed``, with a did-you-mean hint."""
        allowed = tuple(allowed)
        for key in node:
            if key not in allowed:
                import difflib  # noqa: PLC0415 - only for a mistake: valid policies never need it

                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(allowed)}"
                self.key(node, key, f"unknown key '{key}' in {where}", hint)

    def raise_if_any(self) -> None:
        """Raise :class:`PolicyError` when any problem was recorded."""
        if self.problems:
            ordered = sorted(set(self.problems), key=lambda p: (p.line, p.column, p.message))
            raise PolicyError(ordered)


def _lc(node: Any) -> Any:
    return getattr(node, "lc", None)


def node_position(node: Any) -> tuple[int, int]:
    """The 0-based position of a node (0, 0 when unknown)."""
    lc = _lc(node)
    return (lc.line, lc.col) if lc is not None and lc.line is not None else (0, 0)


def key_position(node: Any, key: object) -> tuple[int, int]:
    """The 0-based position of a mapping key."""
    lc = _lc(node)
    try:
        line, column = lc.key(key)
        return int(line), int(column)
    except (AttributeError, KeyError, TypeError):
        return node_position(node)


def value_position(node: Any, key: object) -> tuple[int, int]:
    """The 0-based position of a mapping value."""
    lc = _lc(node)
    try:
        line, column = lc.value(key)
        return int(line), int(column)
    except (AttributeError, KeyError, TypeError):
        return key_position(node, key)


def item_position(node: Any, index: int) -> tuple[int, int]:
    """The 0-based position of a sequence item."""
    lc = _lc(node)
    try:
        line, column = lc.item(index)
        return int(line), int(column)
    except (AttributeError, KeyError, TypeError, IndexError):
        return node_position(node)
