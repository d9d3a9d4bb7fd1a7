"""Standard-library modules a door never uses, imported only when something asks for them.

Some standard modules import others at their top for one function a door never calls:
``dataclasses`` imports ``inspect`` (with ``ast``, ``dis``, ``tokenize``) to write the
``__doc__`` of a record without a docstring and ``copy`` for ``asdict``; ``urllib.parse``
(which ``pathlib`` imports) imports ``ipaddress`` to check bracketed hosts. :func:`import_deferring`
imports such a module with those imports deferred (ADR 0036): while it executes, and only then,
``sys.modules`` holds a :class:`Deferred` stand-in for each, which the module keeps as its
global. The stand-in imports the real module on the first attribute asked of it and answers from
it every time, so nothing can differ; any later ``import`` loads the real module as before.

A module that takes a function from one it imports by name, at its top, would ask the stand-in
at once: ``pathlib`` takes ``quote_from_bytes`` from ``urllib.parse`` (for ``as_uri``), and
``urllib.parse`` (named tuples, ``ipaddress``) is ~1 ms of a door's start-up. The stand-in then
holds a forwarder for that name, which imports the real module when called and returns what its
function returns (ADR 0040): :func:`import_pathlib`.
"""

from __future__ import annotations

__all__ = [
    "Deferred",
    "DeferredModule",
    "forwarder",
    "import_deferring",
    "import_pathlib",
    "import_subprocess",
]

import sys
from types import ModuleType

# Not ``typing.TYPE_CHECKING``: this module may be the first a door imports.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class Deferred(ModuleType):
    """A module imported on the first attribute asked of it; every attribute is the real
    module's (looked up each time, so nothing can differ from it)."""

    def __getattr__(self, attr: str) -> Any:
        if sys.modules.get(self.__name__) is self:  # asked while standing in: step aside
            del sys.modules[self.__name__]
        __import__(self.__name__)
        return getattr(sys.modules[self.__name__], attr)


class DeferredModule(Deferred):
    """The stand-in of a module that is no package. ``from module import name`` asks it for
    ``__path__`` (a package's names may be submodules): it answers as the real module does, that
    there is none, without importing it."""

    def __getattr__(self, attr: str) -> Any:
        if attr == "__path__":
            raise AttributeError(attr)
        return super().__getattr__(attr)


def forwarder(module: str, name: str) -> Callable[..., Any]:
    """A function that imports ``module`` when called and calls its function ``name`` with the
    same arguments: the same answer, or the same exception."""

    def forward(*args: Any, **kwargs: Any) -> Any:
        stand_in = sys.modules.get(module)
        if isinstance(stand_in, Deferred):  # called while standing in: step aside
            del sys.modules[module]
        __import__(module)
        return getattr(sys.modules[module], name)(*args, **kwargs)

    forward.__name__ = forward.__qualname__ = name
    return forward


def import_deferring(
    name: str, deferred: tuple[str, ...], forwarded: tuple[tuple[str, str], ...] = ()
) -> ModuleType:
    """Module ``name``, imported (when neither it nor a module of ``deferred`` is yet) with the
    modules of ``deferred`` standing in until first used; otherwise imported as usual. Each
    ``(module, function)`` of ``forwarded`` (a module that is no package) is held by that
    module's stand-in as a :func:`forwarder`, for a module ``name`` takes the function from by
    name at import."""
    if any(module in sys.modules for module in (name, *deferred)):
        __import__(name)
        return sys.modules[name]
    takers = {module for module, _ in forwarded}
    stand_ins = {
        module: (DeferredModule if module in takers else Deferred)(module) for module in deferred
    }
    for module, function in forwarded:
        setattr(stand_ins[module], function, forwarder(module, function))
    sys.modules.update(stand_ins)
    try:
        __import__(name)
    finally:
        for module, stand_in in stand_ins.items():
            if sys.modules.get(module) is stand_in:
                del sys.modules[module]
    return sys.modules[name]


def import_pathlib() -> ModuleType:
    """``pathlib``, with ``urllib.parse`` (and so ``ipaddress``) imported only when a path is
    made into a URI (``as_uri``) or something else imports it: a door never does (ADR 0036,
    0040)."""
    return import_deferring(
        "pathlib", ("urllib.parse",), forwarded=(("urllib.parse", "quote_from_bytes"),)
    )


def import_subprocess() -> ModuleType:
    """``subprocess``, with ``signal`` (its enums of signals, handlers and masks) imported only
    when a process is killed or a signal is named, and ``locale`` only when a text-mode process
    is given no encoding: a door that runs git to its end, reading bytes, does neither (ADR
    0040)."""
    return import_deferring("subprocess", ("signal", "locale"))
