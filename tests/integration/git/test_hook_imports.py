"""The hook, through a real ``git push``, imports only what the push needs (issue 10 item 9).

``PYTHONPROFILEIMPORTTIME`` reaches the hook through git's environment and the hook's report of
every import comes back as ``remote:`` lines. The first push after the policy changed compiles
it from YAML (the parser is needed; the generated schema code confirms it, so ``jsonschema`` is
not imported for a valid policy, ADR 0019); every later push reads the server's JSON cache,
and then neither the YAML parser nor the schema validator may be imported.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.integration.git._harness import Server, push
from tests.support.gitrepo import ALICE

_IMPORTED = re.compile(r"remote: import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)")
# inspect (with ast, dis, tokenize) and copy: records are made without them; ipaddress: paths
# are (ADR 0036); urllib.parse, textwrap and signal: paths, help texts and git's processes are
# made without them too (ADR 0040).
_NEVER = {"rich", "jinja2", "psycopg", "inspect", "ast", "dis", "tokenize", "copy", "ipaddress"}
_NEVER |= {"urllib.parse", "textwrap", "signal"}


def _pushed_imports(server: Server, name: str) -> set[str]:
    alice = server.clone(ALICE, name)
    alice.commit({"app.py": f"{name}\n"}, "Feature", ALICE)
    pushed = push(alice, "HEAD:refs/heads/main", env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert not pushed.accepted  # judged (no approval): the policy was loaded
    modules = set(_IMPORTED.findall(pushed.output))
    assert "twokey.engine" in modules  # the probe sees the hook's imports
    return modules | {m.split(".")[0] for m in modules}


def test_a_push_with_the_compiled_policy_cached_imports_no_yaml_parser(server: Server) -> None:
    shutil.rmtree(server.bare.path / "twokey" / "cache", ignore_errors=True)
    first = _pushed_imports(server, "first")
    assert "twokey.policy._loader" in first  # compiled from YAML ...
    assert "ruamel" not in first  # ... that twokey reads itself (ADR 0034)
    assert "jsonschema" not in first  # confirmed by the generated validator
    assert not first & _NEVER
    # A push is no deploy; git's processes read bytes (ADR 0040).
    assert not first & {"twokey.engine._deploy", "locale"}
    later = _pushed_imports(server, "later")
    assert not later & ({"ruamel", "jsonschema", "twokey.policy._loader"} | _NEVER)


_CHECK_PROBE = """\
import json, sys
from twokey.cli import main
code = main(["check", "--base", "origin/main", "--head", "HEAD", "--ref", "refs/heads/main"])
print(json.dumps([code, sorted(sys.modules)]))
"""


def test_twokey_check_imports_only_what_it_uses(server: Server) -> None:
    """CI's door compiles the policy (a clone trusts no cache) but loads no ledger, no audit,
    no other command, no terminal tables, HTML templates or PostgreSQL driver."""
    alice = server.clone(ALICE)
    alice.commit({"app.py": "x\n"}, "Feature", ALICE)
    done = subprocess.run(
        [sys.executable, "-c", _CHECK_PROBE],
        cwd=alice.path,
        capture_output=True,
        text=True,
        check=True,
    )
    code, modules = json.loads(done.stdout.splitlines()[-1])
    assert code == 1  # judged: no approval
    tops = {m.split(".")[0] for m in modules}
    assert "twokey.policy._loader" in modules  # compiled from YAML: the probe sees imports
    assert "ruamel" not in tops  # read by twokey itself (ADR 0034)
    assert not tops & (_NEVER | {"jsonschema"})  # a valid policy: the generated validator
    assert not [m for m in modules if m.startswith(("twokey.ledger", "twokey.audit"))]
    assert {m for m in modules if m.startswith("twokey.cli.")} == {
        "twokey.cli._check",
        "twokey.cli._output",
    }


def test_the_hooks_first_reads_start_early_and_run_once(server: Server, tmp_path: Path) -> None:
    """The installed hook starts its settings, refs and policy reads before it imports its
    modules (ADR 0035), and the door takes each of them: none runs twice."""
    alice = server.clone(ALICE, "early")
    alice.commit({"app.py": "early\n"}, "Feature", ALICE)
    trace = tmp_path / "trace"
    pushed = push(alice, "HEAD:refs/heads/main", env={"GIT_TRACE": str(trace)})
    assert not pushed.accepted  # judged (no approval)
    ran = [
        line.split("built-in: git ", 1)[1]
        for line in trace.read_text().splitlines()
        if "built-in: git " in line
    ]
    settings = [c for c in ran if c.startswith("config --get-regexp")]
    snapshot = [c for c in ran if c.startswith("for-each-ref") and "refs/heads/" in c]
    policy = [c for c in ran if c.startswith("cat-file --batch")]
    assert len(settings) == 1, ran
    assert len(snapshot) == 1, ran
    assert policy, ran
    # Started early and taken by the door: each ran once. (Their order in the trace is not
    # asserted: processes started together log in whichever order they run.)
