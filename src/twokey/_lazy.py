"""Names a package loads on first use (PEP 562), so a door imports only what it runs.

``twokey.git``, ``twokey.policy``, ``twokey.engine`` and ``twokey.doors`` list their public
names with the module that holds each; the hook and the deploy door then start without the
modules they never use. :func:`lazy_pattern` does the same for a module's regular expressions.
"""

from __future__ import annotations

__all__ = ["lazy_names", "lazy_pattern"]

import re
from collections.abc import Callable, Mapping, MutableMapping
from importlib import import_module

# Not ``typing.TYPE_CHECKING``: the hook imports this before anything imports typing.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, AnyStr


def lazy_names(
    package: str, table: Mapping[str, str], namespace: MutableMapping[str, object]
) -> Callable[[str], object]:
    """A module ``__getattr__`` that imports ``table[name]`` once and keeps the value."""

    def load(name: str) -> object:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module), name)
        namespace[name] = value  # later look-ups never come back here
        return value

    return load


class _LazyPattern:
    """A regular expression compiled when first used. On first use it puts the compiled pattern
    in its place in the module's namespace (so the module's own look-ups then find the pattern
    itself, at no cost), and answers every attribute from the compiled pattern: one kept
    elsewhere (a table of patterns) still answers as the pattern does."""

    def __init__(self, pattern: Any, flags: int, namespace: MutableMapping[str, Any]) -> None:
        self._made_with = (pattern, flags)
        self._namespace = namespace

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy, pickle and the like: as asked of a plain object
            raise AttributeError(name)
        compiled = self.__dict__.get("_compiled")
        if compiled is None:
            compiled = self._compiled = re.compile(*self._made_with)
            for key, value in list(self._namespace.items()):
                if value is self:
                    self._namespace[key] = compiled
        return getattr(compiled, name)


def lazy_pattern(
    pattern: AnyStr, namespace: MutableMapping[str, Any], flags: int = 0
) -> re.Pattern[AnyStr]:
    """``re.compile(pattern, flags)``, compiled when first used, for the module whose
    ``globals()`` is ``namespace`` (~0.1-0.2 ms each at import, for expressions a door may never
    use: ADR 0040)."""
    return _LazyPattern(pattern, flags, namespace)  # type: ignore[return-value]
