"""Standard-library modules a door never uses, imported only when something asks for them.

Some standard modules import others at their top for one function a door never calls:
``dataclasses`` imports ``inspect`` (with ``ast``, ``dis``, ``tokenize``) to write the
``__doc__`` of a record without a docstring and ``copy`` for ``asdict``; ``urllib.parse``
(which ``pathlib`` imports) imports ``ipaddress`` to check bracketed hosts. :func:`import_deferring`
imports such a module with those imports deferred (ADR 0036): while it executes, and only then,
``sys.modules`` holds a :class:`Deferred` stand-in for each, which the module keeps as its
global. The stand-in imports the real module on the first attribute asked of it and answers from
it every time, so nothing can differ; any later ``import`` loads the real module as before.
"""

from __future__ import annotations

__all__ = ["Deferred", "import_deferring"]

import sys
from types import ModuleType

# Not ``typing.TYPE_CHECKING``: this module may be the first a door imports.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Deferred(ModuleType):
    """A module imported on the first attribute asked of it; every attribute is the real
    module's (looked up each time, so nothing can differ from it)."""

    def __getattr__(self, attr: str) -> Any:
        if sys.modules.get(self.__name__) is self:  # asked while standing in: step aside
            del sys.modules[self.__name__]
        __import__(self.__name__)
        return getattr(sys.modules[self.__name__], attr)


def import_deferring(name: str, deferred: tuple[str, ...]) -> ModuleType:
    """Module ``name``, imported (when neither it nor a module of ``deferred`` is yet) with the
    modules of ``deferred`` standing in until first used; otherwise imported as usual."""
    if any(module in sys.modules for module in (name, *deferred)):
        __import__(name)
        return sys.modules[name]
    stand_ins = {module: Deferred(module) for module in deferred}
    sys.modules.update(stand_ins)
    try:
        __import__(name)
    finally:
        for module, stand_in in stand_ins.items():
            if sys.modules.get(module) is stand_in:
                del sys.modules[module]
    return sys.modules[name]
