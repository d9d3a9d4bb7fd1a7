"""Names a package loads on first use (PEP 562), so a door imports only what it runs.

``twokey.git``, ``twokey.policy`` and ``twokey.doors`` list their public names with the module
that holds each; the hook and the deploy door then start without the modules they never use.
"""

from __future__ import annotations

__all__ = ["lazy_names"]

from collections.abc import Callable, Mapping, MutableMapping
from importlib import import_module


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
