"""Doors start fast: a request imports only what it uses (issue 10 item 9).

Each check runs in a fresh interpreter (``python -c``) and reads ``sys.modules`` afterwards, so
an import added anywhere on the way (a package ``__init__``, a command module, a shared helper)
fails here, not in a benchmark nobody runs. The heavy libraries cost tens of milliseconds each
to import; none of them is needed to print help or to start the hook.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from twokey.cli import _COMMANDS, build_parser
from twokey.doors import install_hook

# ruamel.yaml (YAML parser), jsonschema (policy schema), rich (terminal tables), jinja2 (HTML
# reports), psycopg (PostgreSQL ledger), cryptography (keys and signatures).
HEAVY = ("ruamel", "jsonschema", "rich", "jinja2", "psycopg", "cryptography")

_PROBE = """\
import json, sys
{code}
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after(code: str, cwd: Path | None = None) -> list[str]:
    """Every module a fresh interpreter holds after running ``code``."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(code=code)],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
    )
    modules: list[str] = json.loads(done.stdout.splitlines()[-1])
    return modules


def _heavy(modules: list[str]) -> list[str]:
    return sorted({m.split(".")[0] for m in modules} & set(HEAVY))


def _cli(argv: list[str]) -> str:
    return f"from twokey.cli import main\nmain({argv!r})"


def test_the_probe_sees_a_heavy_import() -> None:
    """The check itself can fail: loading a policy outside the YAML that twokey reads itself
    (an anchor, ADR 0034) does import the YAML parser."""
    code = "from twokey.policy import PolicyError, loads\n"
    code += "try: loads(b'version: &v 1')\nexcept PolicyError: pass"
    modules = _modules_after(code)
    assert "ruamel" in _heavy(modules)


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["deploy", "check", "--help"],
        ["check", "--help"],
        ["hook", "run", "--help"],
        ["policy", "--help"],
        ["audit", "--help"],
    ],
    ids=" ".join,
)
def test_help_imports_no_heavy_library(argv: list[str]) -> None:
    assert _heavy(_modules_after(_cli(argv))) == []


@pytest.mark.parametrize("command", ["--help", "deploy"])
def test_only_the_command_run_is_imported(command: str) -> None:
    """``twokey deploy ...`` imports its own command module, never the other twelve."""
    cli = {m for m in _modules_after(_cli([command, "--help"])) if m.startswith("twokey.cli.")}
    own = {"twokey.cli._deploy", "twokey.cli._digest", "twokey.cli._output"}
    own |= {"twokey.cli._deploy_gateway", "twokey.cli._client"}  # deploy request .. verify
    assert cli == (own if command == "deploy" else set())


def test_hook_entry_imports_no_heavy_library_and_no_command_line(tmp_path: Path) -> None:
    """The module the installed hook runs (read from the hook script itself, so this follows
    the entry point wherever it moves) imports neither heavy libraries nor the command line."""
    bare = tmp_path / "server.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    install_hook(bare, repository="shop")
    script = (bare / "hooks" / "pre-receive").read_text()
    match = re.search(r" -m ([\w.]+) hook-run", script)
    assert match, script
    modules = _modules_after(f"import {match.group(1)}.__main__")
    assert f"{match.group(1)}.__main__" in modules
    assert _heavy(modules) == []
    assert not [m for m in modules if m.startswith("twokey.cli")]


def test_policy_types_do_not_import_the_loader() -> None:
    """Naming the compiled policy (a door with the server's JSON cache) needs no YAML parser."""
    modules = _modules_after("from twokey.policy import DEFAULT_POLICY_PATH, Policy, loads")
    assert "twokey.policy._loader" not in modules
    assert _heavy(modules) == []


def _registered() -> list[tuple[str, str]]:
    parser = build_parser()
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return [(a.dest, a.help or "") for a in action._choices_actions]


def test_the_command_table_matches_what_each_module_registers() -> None:
    """``twokey --help`` is printed from ``_COMMANDS``: it must say what the modules say."""
    assert [(name, text) for name, _, text in _COMMANDS] == _registered()


def test_each_command_is_registered_in_full_when_it_runs() -> None:
    for name, _, _ in _COMMANDS:
        parser = build_parser(name)
        [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        assert action.choices[name].description, name  # the module's parser, not a placeholder


_VALID = "version: 1\npeople: {bob: {}}\npolicy_changes: {approvals: 1, approvers: [bob]}\n"


def test_compiling_a_valid_policy_imports_no_schema_validator() -> None:
    """A CI clone compiles the policy every run: the generated validator confirms it, and
    ``jsonschema`` (about 75 ms) is imported only to explain a refusal (ADR 0019)."""
    modules = _modules_after(f"from twokey.policy import loads\nloads({_VALID!r}, 'p.yml')")
    assert "twokey.policy._schema_fast" in modules
    assert "jsonschema" not in _heavy(modules)
    broken = _VALID.replace("approvals: 1,", "approvals: -1,")
    code = f"from twokey.policy import PolicyError, loads\ntry: loads({broken!r}, 'p.yml')\n"
    code += "except PolicyError: pass"
    assert "jsonschema" in _heavy(_modules_after(code))


def test_building_the_command_line_imports_no_shutil() -> None:
    """argparse asks ``shutil`` (zlib, bz2, lzma) for the terminal width per option; twokey's
    formatter asks the OS directly, so a door's parser costs no compression modules."""
    modules = _modules_after("from twokey.cli import build_parser\nbuild_parser('deploy')")
    assert "shutil" not in modules
    assert "twokey.cli._deploy" in modules  # the probe built the command's parser


def test_help_still_follows_the_terminal_width() -> None:
    code = "import os\nos.environ['COLUMNS'] = '{}'\n" + _cli(["deploy", "check", "--help"])
    narrow = subprocess.run(
        [sys.executable, "-c", code.format(50)], capture_output=True, text=True, check=False
    ).stdout
    wide = subprocess.run(
        [sys.executable, "-c", code.format(200)], capture_output=True, text=True, check=False
    ).stdout
    usage = narrow.split("\n\n")[0].splitlines()  # the usage block: wrapped by argparse
    assert max(map(len, usage)) <= 50
    assert len(narrow.splitlines()) > len(wide.splitlines())


def test_a_deploy_s_engine_loads_no_ref_update_rules() -> None:
    """``twokey.engine`` loads its names on first use; the ref-update rules load on the first
    ref update (ADR 0040): a deploy check imports neither them nor review, shape, strictness."""
    modules = _modules_after("from twokey.engine import evaluate_safely, explain")
    engine = {m for m in modules if m.startswith("twokey.engine.")}
    assert "twokey.engine._evaluate" in engine
    assert not engine & {
        "twokey.engine._refs",
        "twokey.engine._authorship",
        "twokey.engine._review",
        "twokey.engine._shape",
        "twokey.engine._strictness",
    }
    preloaded = _modules_after("import twokey.engine\ntwokey.engine.preload()")
    assert {"twokey.engine._refs", "twokey.engine._authorship"} <= set(preloaded)


def test_the_engine_s_named_tuples_hold_evaluated_annotations() -> None:
    """A string annotation on a ``typing.NamedTuple`` field becomes a ForwardRef, which
    compiles it, and a process's first ``compile()`` builds every AST type (~9 M instructions of
    a deploy check, ADR 0040): these modules evaluate their annotations."""
    from twokey.engine._people import Why  # noqa: PLC0415
    from twokey.engine._tally import Candidate  # noqa: PLC0415
    from twokey.model import Alias, TrustLevel  # noqa: PLC0415
    from twokey.policy import Exclusion  # noqa: PLC0415

    assert Why.__annotations__ == {"kind": Exclusion, "commit": str, "role": str}
    assert Candidate.__annotations__ == {
        "signer": Alias,
        "trust": TrustLevel,
        "evidence": str,
        "person": str | None,
    }
