"""Records start fast: ``dataclasses`` gets code compiled ahead of time for its exact text.

On CPython 3.11 ``@dataclass`` writes each method of a record (``__init__``, ``__repr__``,
``__eq__``, ``__hash__``, a frozen record's ``__setattr__``/``__delattr__``) as Python text and
compiles it with ``exec`` when the class is created: 29 % of a deploy check's instructions
(ADR 0031). That text depends only on the class's fields and options, so
``scripts/dataclass_code.py`` collects it once and ``twokey._dataclass_code`` holds it as
ordinary source, compiled to bytecode once like any module.

Importing this module installs it (``twokey.model``, ``twokey._gitrunner`` and
``twokey._evidence_refs`` import it first, so the doors' records are made this way; a command
that makes no record, like ``twokey --help``, imports neither it nor ``dataclasses``).
:func:`install` gives the ``dataclasses`` module its own ``exec``: for a text found in that
table it defines ``__create_fn__`` from the precompiled code (moved to ``<string>``, line 1,
where ``exec`` would have put it: a unit test asserts the code is equal to what ``compile``
makes of the text); for any other text, or another Python, it compiles as ``exec`` does. So
the methods are the same code whichever way they were made; only the parsing is skipped.

``dataclasses`` is imported here with ``inspect`` and ``copy`` deferred (``twokey._deferred``,
ADR 0036): on CPython 3.11 it imports ``inspect`` (with ``ast``, ``dis``, ``tokenize``,
``linecache``: ~6 ms) only to call ``inspect.signature`` for a record without a docstring, and
``copy`` (with ``weakref``) only for ``asdict``/``astuple``.
"""

__all__ = ["install"]

import builtins
import sys
from types import CodeType, FunctionType
from typing import Any

from twokey._deferred import import_deferring

_FILE = "<string>"


def relocated(code: CodeType) -> CodeType:
    """``code`` as ``exec`` compiles the same text: file ``<string>``, starting at line 1."""
    shift = code.co_firstlineno - 1
    consts = tuple(
        const.replace(co_filename=_FILE, co_firstlineno=const.co_firstlineno - shift)
        if isinstance(const, CodeType)
        else const
        for const in code.co_consts
    )
    return code.replace(co_filename=_FILE, co_firstlineno=1, co_consts=consts)


def _made_exec(table: dict[str, CodeType], home: dict[str, Any]) -> Any:
    def exec(source: Any, globals: dict[str, Any] | None = None, locals: Any = None) -> None:
        code = table.get(source) if isinstance(source, str) and locals is not None else None
        if code is None:
            if isinstance(source, str):  # compiled as dataclasses would: no future flags
                source = compile(source, _FILE, "exec", dont_inherit=True)
            builtins.exec(source, home if globals is None else globals, locals)  # noqa: S102
            return
        scope = home if globals is None else globals
        scope.setdefault("__builtins__", builtins.__dict__)  # as exec does
        locals["__create_fn__"] = FunctionType(relocated(code), scope)

    return exec


# What dataclasses imports only for functions a door never calls: inspect (a record without a
# docstring: its signature), copy (asdict, astuple: deep copies).
_DEFERRED = ("inspect", "copy")


def install() -> None:
    """Give ``dataclasses`` the precompiled code (once; nothing on another Python)."""
    dataclasses = import_deferring("dataclasses", _DEFERRED)

    if "exec" in vars(dataclasses):
        return
    from twokey import _dataclass_code  # noqa: PLC0415 - the generated table

    if sys.version_info[:2] != _dataclass_code.PYTHON:
        return
    dataclasses.exec = _made_exec(_dataclass_code.CODE, vars(dataclasses))  # type: ignore[attr-defined]


install()
