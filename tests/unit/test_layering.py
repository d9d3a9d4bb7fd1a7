"""Dependencies flow downward only (DESIGN.md, "Layout"); the engine and the model do no I/O.

Every ``import`` in every module is read (functions' lazy imports included), so a shortcut
through a lazy import is caught too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "twokey"
_ALL = {
    "errors",
    "_gitrunner",
    "_evidence_refs",
    "_files",
    "_text",
    "_lazy",
    "_ed25519",
    "_dataclass_fast",
    "_dataclass_code",
    "_deferred",
    "_sha2",
    "model",
    "policy",
    "engine",
    "evidence",
    "ledger",
    "git",
    "doors",
    "audit",
}

# What each part of twokey may import from the others.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "_gitrunner": {"errors", "_dataclass_fast"},
    # the evidence ref layout and limits, shared by git and evidence
    "_evidence_refs": {"_dataclass_fast", "_lazy"},
    # records made from code compiled ahead of time (ADR 0031), and its generated table
    "_dataclass_fast": {"_dataclass_code", "_deferred"},
    "_dataclass_code": set(),
    # standard modules imported with the imports a door never uses deferred (ADR 0036)
    "_deferred": set(),
    "_sha2": set(),  # SHA-256/512 without loading OpenSSL
    "_files": {"errors"},  # key files: created 0600 with O_EXCL|O_NOFOLLOW
    "_text": set(),  # escaping control characters for terminals (pure)
    "_lazy": set(),  # names a package loads on first use (PEP 562), patterns compiled when used
    "_ed25519": set(),  # the canonical ssh-ed25519 line, read without cryptography's parser
    "model": {"errors", "_text", "_ed25519", "_dataclass_fast"},
    "policy": {"model", "errors", "_text", "_lazy", "_ed25519", "_sha2"},
    "engine": {"model", "policy", "errors", "_text", "_lazy"},
    "evidence": {
        "model",
        "policy",
        "errors",
        "_gitrunner",
        "_files",
        "_text",
        "_evidence_refs",
        "_lazy",
        "_ed25519",
        "_sha2",
    },
    "ledger": {"model", "errors", "_files", "_text"},
    # Git facts only: no engine, no policy, no ledger (those are the doors' business).
    "git": {"evidence", "model", "errors", "_gitrunner", "_evidence_refs", "_lazy", "_sha2"},
    # ``python -m twokey.git hook-run``, what installed hooks run: a shim over the hook door.
    "git.__main__": {"git", "doors", "_deferred"},
    # The doors sit between git facts (and evidence, ledger) and the command line.
    "doors": {
        "_dataclass_fast",
        "_deferred",
        "_lazy",
        "engine",
        "evidence",
        "git",
        "ledger",
        "model",
        "policy",
        "errors",
        "_gitrunner",
        "_text",
        "_evidence_refs",
    },
    "audit": {
        "engine",
        "evidence",
        "git",
        "ledger",
        "model",
        "policy",
        "errors",
        "_gitrunner",
        "_text",
        "_evidence_refs",
    },
    # Forge adapters: webhooks and API data become evidence and facts; judged through the doors.
    "forge": {
        "_lazy",
        "doors",
        "engine",
        "evidence",
        "git",
        "ledger",
        "model",
        "policy",
        "errors",
        "_gitrunner",
        "_text",
        "_evidence_refs",
    },
    # The gateway: HTTP API and web UI over the doors, the forge adapters and the ledger.
    "gateway": {
        "_lazy",
        "audit",
        "doors",
        "engine",
        "evidence",
        "forge",
        "git",
        "ledger",
        "model",
        "policy",
        "errors",
        "_files",
        "_gitrunner",
        "_text",
        "_evidence_refs",
    },
    "demo": _ALL | {"forge", "gateway"},
    "cli": _ALL | {"demo", "forge", "gateway"},
    "__main__": {"cli"},
}
# The pure core: no processes, files, sockets or databases (the engine is deterministic).
NO_IO = {"engine", "model"}
IO_MODULES = {"subprocess", "socket", "sqlite3", "psycopg", "shutil", "tempfile", "urllib", "http"}


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def _private_imports(path: Path, part: str) -> list[str]:
    """Another package's ``_private`` modules that ``path`` (in ``part``) imports.

    A package exposes what others may use in its ``__init__``; ``twokey.<pkg>._x`` is for
    ``<pkg>`` alone, whether imported as ``from twokey.<pkg>._x import y``,
    ``import twokey.<pkg>._x`` or ``from twokey.<pkg> import _x``.
    """
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        bad = [name for name in names if _is_private_of_another(name, part)]
        found.extend(f"{path.name}:{node.lineno}: {name}" for name in bad[:1])
    return found


def _is_private_of_another(name: str, part: str) -> bool:
    bits = name.split(".")
    return (
        len(bits) > 2
        and bits[0] == "twokey"
        and bits[1] != part.split(".", maxsplit=1)[0]
        and bits[2].startswith("_")
        and not bits[2].startswith("__")
    )


def _part(path: Path) -> str:
    rel = path.relative_to(SRC).parts
    if rel == ("git", "__main__.py"):
        return "git.__main__"
    return rel[0].removesuffix(".py")


MODULES = sorted(p for p in SRC.rglob("*.py") if _part(p) in ALLOWED)


def test_every_part_of_twokey_has_a_rule() -> None:
    parts = {_part(p) for p in SRC.rglob("*.py")} - {"__init__"}
    assert parts <= set(ALLOWED), parts - set(ALLOWED)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_flow_downward(path: Path) -> None:
    part = _part(path)
    used = {m.split(".")[1] for m in _imports(path) if m.startswith("twokey.")}
    own = {part.split(".")[0]}
    assert used - own <= ALLOWED[part], f"{part} may not import {used - ALLOWED[part] - own}"


@pytest.mark.parametrize(
    "path", [p for p in MODULES if _part(p) in NO_IO], ids=lambda p: str(p.relative_to(SRC))
)
def test_the_core_does_no_io(path: Path) -> None:
    used = {m.split(".")[0] for m in _imports(path)}
    assert not used & IO_MODULES, used & IO_MODULES


def test_the_doors_sit_between_git_and_the_command_line() -> None:
    """git never reaches up into the doors; the doors never reach up into the CLI or audit."""
    assert "doors" not in ALLOWED["git"] | ALLOWED["evidence"] | ALLOWED["ledger"]
    assert not {"engine", "policy", "ledger"} & ALLOWED["git"]  # git facts only
    assert "doors" in ALLOWED["cli"]
    assert not {"cli", "audit", "demo", "forge", "gateway"} & ALLOWED["doors"]
    assert not {"cli", "demo", "gateway"} & ALLOWED["forge"]
    assert any(_part(p) == "doors" for p in MODULES)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_imports_another_packages_private_module(path: Path) -> None:
    assert _private_imports(path, _part(path)) == []


@pytest.mark.parametrize(
    "line",
    [
        "from twokey.git._reader import GitReader",
        "import twokey.audit._exceptions",
        "from twokey.ledger import _bundle",
        "def lazy() -> None:\n    from twokey.evidence._sshsig import fingerprint",
    ],
    ids=["from-private", "import-private", "from-package-import-private", "lazy"],
)
def test_the_private_import_rule_catches_each_form(tmp_path: Path, line: str) -> None:
    module = tmp_path / "bad.py"
    module.write_text(line + "\n")
    assert len(_private_imports(module, "cli")) == 1


def test_the_private_import_rule_allows_the_own_package_and_public_names(tmp_path: Path) -> None:
    module = tmp_path / "good.py"
    module.write_text(
        "from twokey.cli._output import x\nfrom twokey.git import GitReader\n"
        "from twokey._gitrunner import GitRunner\nfrom twokey.audit import __all__\n"
    )
    assert _private_imports(module, "cli") == []
