"""A real ``twokey deploy check`` imports what it uses and nothing else (issue 10 item 9).

It compiles the trusted policy (YAML parser; the generated schema code, not ``jsonschema``,
for a valid policy: ADR 0019) and verifies signatures (cryptography), so those are expected;
the ledger, the audit, the other commands, terminal tables, HTML templates and PostgreSQL are
not, when no ledger is configured.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.doors._deploys import ARTIFACT, World

_PROBE = """\
import json, sys
from twokey.cli import main
code = main({argv!r})
print(json.dumps([code, sorted(sys.modules)]))
"""


def _run(world: World, *extra: str) -> tuple[int, set[str]]:
    argv = ["deploy", "check", "--repo", str(world.job.path), "--environment", "production"]
    argv += ["--artifact", ARTIFACT, "--commit", world.commits["Z"], *extra]
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(argv=argv)],
        capture_output=True,
        text=True,
        check=True,
    )
    code, modules = json.loads(done.stdout.splitlines()[-1])
    return int(code), set(modules)


def test_an_allowed_deploy_check_imports_only_what_it_uses(world: World) -> None:
    world.attest("Z")
    code, modules = _run(world, "--deployer", "ci@example.com")
    assert code == 0
    tops = {m.split(".")[0] for m in modules}
    assert "cryptography" in tops  # verified: the probe works
    assert "twokey.policy._loader" in modules  # compiled from YAML ...
    assert "ruamel" not in tops  # ... that twokey reads itself (ADR 0034)
    assert "twokey.policy._schema_fast" in modules
    assert not tops & {"rich", "jinja2", "psycopg", "jsonschema"}
    assert not {m for m in modules if m.startswith(("twokey.ledger", "twokey.audit"))}
    cli = {m for m in modules if m.startswith("twokey.cli.")}
    # The gateway's deploy commands are placeholders: neither their parsers nor the client.
    assert cli == {"twokey.cli._deploy", "twokey.cli._digest", "twokey.cli._output"}
    assert "httpx" not in tops
    # Records are made without inspect (every door record has a docstring) and copy, paths
    # without ipaddress (ADR 0036).
    assert not tops & {"inspect", "ast", "dis", "tokenize", "copy", "ipaddress"}
    # Paths without urllib.parse, help texts filled only for --help (textwrap), git run without
    # signal's enums; the engine's ref-update, review, shape and strictness modules are not a
    # deploy's (ADR 0040).
    assert not modules & {"urllib.parse", "textwrap", "signal"}
    engine = {m for m in modules if m.startswith("twokey.engine.")}
    assert engine == {
        "twokey.engine._cache",
        "twokey.engine._checks",
        "twokey.engine._deploy",
        "twokey.engine._evaluate",
        "twokey.engine._people",
        "twokey.engine._render",
        "twokey.engine._tally",
    }


def test_with_a_ledger_the_decision_is_recorded(world: World) -> None:
    """The ledger is imported when there is one to write: laziness never skips the record."""
    world.attest("Z")
    ledger = str(world.root / "ledger.db")
    code, modules = _run(world, "--deployer", "ci@example.com", "--ledger", ledger)
    assert code == 0
    assert "twokey.ledger" in modules
    assert (world.root / "ledger.db").stat().st_size > 0


def test_every_git_process_of_a_check_runs_once(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The processes a check starts early (ADR 0035) are the ones it then asks for: the
    discovery, ``ls-remote`` and ``log`` each run once, and nothing is started twice."""
    world.attest("Z")
    real = shutil.which("git")
    assert real is not None
    log, shim = tmp_path / "git.log", tmp_path / "shim"
    shim.mkdir()
    (shim / "git").write_text(f'#!/bin/sh\necho "$1 $2 $3" >> {log}\nexec {real} "$@"\n')
    (shim / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim}{os.pathsep}{os.environ['PATH']}")
    assert world.deploy("--deployer", "ci@example.com") == 0
    # "-C DIR rev-parse" (discovery), "--git-dir DIR for-each-ref" (the evidence store),
    # "-c core.commitGraph=false log" (the gate's reads), ...
    ran = sorted(
        line.split()[2 if line.startswith(("--git-dir", "-c ")) else 0]
        for line in log.read_text().splitlines()
    )
    assert ran == sorted(
        ["-C", "ls-remote", "config", "cat-file", "log", "for-each-ref", "cat-file"]
    )
