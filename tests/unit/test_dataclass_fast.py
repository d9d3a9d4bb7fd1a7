"""Records made from precompiled code are the records ``dataclasses`` makes (ADR 0031).

``twokey._dataclass_code`` holds, for each text ``dataclasses`` generates for twokey's records,
the code Python compiled from that text as module source; ``twokey._dataclass_fast`` moves it
to ``<string>``, line 1. These tests hold that the result is byte for byte the code ``compile``
makes of the text, that every record method is the same code (and the same function) with or
without the fast path, that a text not in the table still works, and that the table is what
this Python generates today.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
from pathlib import Path
from types import CodeType

import pytest

from twokey import _dataclass_code
from twokey._dataclass_fast import relocated

ROOT = Path(__file__).resolve().parents[2]
_SAME_PYTHON = sys.version_info[:2] == _dataclass_code.PYTHON


_ATTRS = (
    "co_argcount",
    "co_posonlyargcount",
    "co_kwonlyargcount",
    "co_nlocals",
    "co_stacksize",
    "co_flags",
    "co_code",
    "co_names",
    "co_varnames",
    "co_freevars",
    "co_cellvars",
    "co_filename",
    "co_name",
    "co_qualname",
    "co_firstlineno",
    "co_linetable",
    "co_exceptiontable",
)


def shape(code: CodeType) -> tuple[object, ...]:
    """Everything a code object is made of, nested code included (marshal's bytes also
    depend on how many references an object had when dumped, so they are not compared)."""
    consts = tuple(shape(c) if isinstance(c, CodeType) else (type(c), c) for c in code.co_consts)
    return (*(getattr(code, name) for name in _ATTRS), consts)


def _codes(code: CodeType) -> list[CodeType]:
    nested = [c for c in code.co_consts if isinstance(c, CodeType)]
    return [code, *(n for c in nested for n in _codes(c))]


def _compiled(text: str) -> CodeType:
    module = compile(text, "<string>", "exec", dont_inherit=True)
    (made,) = [c for c in module.co_consts if isinstance(c, CodeType)]
    return made


@pytest.mark.skipif(not _SAME_PYTHON, reason="the table is for another Python")
def test_every_precompiled_code_is_what_compile_makes_of_its_text() -> None:
    assert len(_dataclass_code.CODE) > 100
    for text, code in _dataclass_code.CODE.items():
        got, expected = relocated(code), _compiled(text)
        assert got == expected
        assert shape(got) == shape(expected)  # names, lines, columns, file, nested code
        for mine, theirs in zip(_codes(got), _codes(expected), strict=True):
            assert (mine.co_filename, mine.co_qualname, mine.co_firstlineno) == (
                theirs.co_filename,
                theirs.co_qualname,
                theirs.co_firstlineno,
            )


@pytest.mark.skipif(not _SAME_PYTHON, reason="the table is for another Python")
def test_the_generated_module_is_current() -> None:
    """Regenerating it gives the checked-in file, byte for byte (change a record: re-run)."""
    script = ROOT / "scripts/dataclass_code.py"
    done = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


# Every method dataclasses made for every record of the door packages, and for one record the
# table does not know: marshalled code plus what a function carries beside its code.
_PROBE = textwrap.dedent(
    """
    import builtins, dataclasses, hashlib, importlib, pkgutil, sys
    from types import CodeType
    if sys.argv[1] == "slow":
        dataclasses.exec = builtins.exec  # the fast path then stays out (install() sees it)
    import twokey.model
    fast = getattr(vars(dataclasses).get("exec"), "__module__", "") == "twokey._dataclass_fast"
    names = ["twokey.model", "twokey.policy", "twokey.engine", "twokey.evidence", "twokey.git",
             "twokey.doors"]
    for name in list(names):
        package = importlib.import_module(name)
        names += [i.name for i in pkgutil.iter_modules(package.__path__, name + ".")]
    modules = [importlib.import_module(name) for name in names]

    @dataclasses.dataclass(frozen=True, slots=True, order=True)
    class Unknown:
        odd_field_name_1: int
        odd_field_name_2: str = "x"
        odd_field_name_3: tuple = dataclasses.field(default_factory=tuple)

    ATTRS = {attrs!r}

    def shape(code):
        consts = tuple(shape(c) if isinstance(c, CodeType) else (type(c), c)
                       for c in code.co_consts)
        return (*(getattr(code, name) for name in ATTRS), consts)

    digest, count = hashlib.sha256(), 0
    classes = [Unknown] + [v for m in modules for v in vars(m).values()
                           if isinstance(v, type) and dataclasses.is_dataclass(v)
                           and v.__module__ == m.__name__]
    for cls in classes:
        for attr, value in sorted(vars(cls).items()):
            fn = getattr(value, "__wrapped__", value)  # __repr__ is wrapped by dataclasses
            code = getattr(fn, "__code__", None)
            if code is None or code.co_filename != "<string>":
                continue
            count += 1
            globals_name = fn.__globals__.get("__name__")
            extra = (cls.__qualname__, attr, fn.__name__, fn.__qualname__, fn.__module__,
                     globals_name, repr(fn.__defaults__), repr(fn.__kwdefaults__),
                     repr(fn.__annotations__), fn.__doc__)
            digest.update(repr((shape(code), extra)).encode())
    print(fast, count, digest.hexdigest())
    """
).replace("{attrs!r}", repr(_ATTRS))


def _probe(mode: str) -> tuple[str, int, str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True
    )
    fast, count, digest = done.stdout.split()
    return fast, int(count), digest


@pytest.mark.skipif(not _SAME_PYTHON, reason="the table is for another Python")
def test_records_are_the_same_code_and_functions_with_or_without_the_fast_path() -> None:
    fast, slow = _probe("fast"), _probe("slow")
    assert (fast[0], slow[0]) == ("True", "False")  # each probe ran the way it meant to
    assert fast[1] > 300
    assert fast[1:] == slow[1:]


def test_a_text_the_table_does_not_know_is_compiled_as_before() -> None:
    @dataclasses.dataclass(frozen=True)
    class Rare:
        a_field_no_record_has: int
        another_rare_field: str = "b"

    rare = Rare(1)
    assert rare == Rare(1, "b")
    assert repr(rare) == (
        "test_a_text_the_table_does_not_know_is_compiled_as_before.<locals>."
        "Rare(a_field_no_record_has=1, another_rare_field='b')"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        rare.a_field_no_record_has = 2  # type: ignore[misc]
    assert Rare.__init__.__code__.co_filename == "<string>"


_RECORD_WITHOUT_DOCSTRING = textwrap.dedent(
    """
    import sys
    {first}
    import dataclasses
    before = "inspect" in sys.modules or "copy" in sys.modules

    @dataclasses.dataclass
    class Box:
        'A record with a docstring: its signature is not needed.'

        items: list

    copied = dataclasses.asdict(Box([{"a": [1]}]))  # deep copies: copy is imported
    assert copied == {"items": [{"a": [1]}]}, copied
    assert type(sys.modules["copy"]) is type(sys) and dataclasses.copy.deepcopy

    @dataclasses.dataclass(frozen=True)
    class Point:
        x: int
        tags: "list[str]" = dataclasses.field(default_factory=list)

    import inspect
    real = type(sys.modules["inspect"]) is type(sys)
    print(before, real, dataclasses.inspect.signature is inspect.signature, Point.__doc__)
    """
)


def _record_without_docstring(first: str) -> str:
    source = _RECORD_WITHOUT_DOCSTRING.replace("{first}", first)
    done = subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_dataclasses_imports_inspect_and_copy_when_a_record_needs_them() -> None:
    """Imported through the fast path, ``dataclasses`` leaves ``inspect`` and ``copy`` out (ADR
    0036) until a record without a docstring needs its signature (or ``asdict`` a deep copy);
    that record's ``__doc__`` is the one plain ``dataclasses`` writes, ``asdict`` copies as it
    does, and ``sys.modules`` then holds the real modules."""
    deferred = _record_without_docstring("import twokey._dataclass_fast")
    plain = _record_without_docstring("")
    assert deferred.startswith("False True True ")
    assert plain.startswith("True True True ")
    assert (
        deferred.split(" ", 3)[3]
        == plain.split(" ", 3)[3]
        == ("Point(x: int, tags: 'list[str]' = <factory>)")
    )
