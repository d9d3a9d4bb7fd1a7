"""The CI examples in examples/ run as written: each file is parsed, its shell commands are
extracted and run in order against a local clone (tests that pass, or fail), with the real
``twokey`` and ``pytest`` of this checkout.

Only two kinds of step do not run: installing twokey (the checkout's is used) and
the deploy step (run against a real gateway by
tests/integration/gateway/test_ci_example_deploys.py; here it is checked to be there).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from tests.support.gitrepo import ALICE, BOB, GitRepo, git_env

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
BIN = Path(sys.executable).parent
PUSH_URL = "https://twokey:glpat-test@gitlab.test/group/app.git"


@dataclass
class Step:
    """One shell step: its name, its script, its own environment."""

    name: str
    script: str
    env: dict[str, str]


@dataclass
class Ci:
    """The local repository a CI run works in, and what the CI would provide."""

    work: Path
    origin: Path
    key: Path
    env: dict[str, str]


def _yaml(name: str) -> Any:
    return YAML(typ="safe").load((EXAMPLES / name).read_text())


def _key(tmp: Path, name: str) -> tuple[Path, str]:
    """A twokey key file and its public key (``ssh-ed25519 AAAA...``)."""
    key = tmp / f"{name}.key"
    cmd = [str(BIN / "twokey"), "keys", "generate", "--out", str(key)]
    subprocess.run(cmd, check=True, capture_output=True)
    kind, data = Path(f"{key}.pub").read_text().split()[:2]
    return key, f"{kind} {data}"


def _policy(ci_pub: str, bob_pub: str) -> str:
    return (
        "version: 1\npeople:\n"
        "  alice: {emails: [alice@example.com]}\n"
        f'  bob: {{emails: [bob@example.com], keys: ["{bob_pub}"]}}\n'
        f'services:\n  ci: {{keys: ["{ci_pub}"]}}\n'
        "groups:\n  reviewers: [bob]\n"
        "branches:\n  main: {approvals: 1, approvers: [reviewers], "
        "checks: {require: [tests], signers: [ci]}}\n"
        "policy_changes: {approvals: 1, approvers: [reviewers]}\n"
    )


def _setup(tmp: Path, passing: bool) -> Ci:
    ci_key, ci_pub = _key(tmp, "ci")
    bob_key, bob_pub = _key(tmp, "bob")
    seed = GitRepo.init(tmp / "seed")
    seed.commit(
        {".twokey/policy.yml": _policy(ci_pub, bob_pub), "app.py": "X = 1\n"}, "init", ALICE
    )
    origin = tmp / "origin.git"
    subprocess.run(
        ["git", "clone", "-q", "--bare", str(seed.path), str(origin)], check=True, env=git_env()
    )
    work = tmp / "work"
    subprocess.run(["git", "clone", "-q", str(origin), str(work)], check=True, env=git_env())
    repo = GitRepo(work)
    repo.git("config", "twokey.repository", "example/app")
    repo.git("config", f"url.{origin}.insteadOf", PUSH_URL)  # the GitLab push URL, locally
    repo.git("checkout", "-q", "-b", "feature")
    test = f"from app import X\n\n\ndef test_x():\n    assert X == {1 if passing else 2}\n"
    repo.commit({"test_app.py": test, "conftest.py": ""}, "add a test", ALICE)
    repo.git("checkout", "-q", "--detach")  # CI checks out the commit
    subprocess.run(
        [
            BIN / "twokey",
            "approve",
            "HEAD",
            "--ref",
            "main",
            "--key",
            str(bob_key),
            "--repo",
            str(work),
        ],
        check=True,
        capture_output=True,
        env=git_env(BOB),
    )
    repo.git("push", "-q", "origin", "refs/twokey/*:refs/twokey/*")
    env = {**git_env(ALICE), "PATH": f"{BIN}:{os.environ['PATH']}", "HOME": str(tmp)}
    return Ci(work, origin, ci_key, env)


def _run(ci: Ci, step: Step, shell: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*shell, step.script],
        check=False,
        cwd=ci.work,
        env={**ci.env, **step.env},
        capture_output=True,
        text=True,
        timeout=300,
    )


# --- GitHub Actions ------------------------------------------------------------------------


def _expr(value: str, values: dict[str, str]) -> str:
    """``${{ name }}`` replaced from ``values``; an unknown expression fails the test."""

    def one(match: re.Match[str]) -> str:
        return values[match.group(1)]

    return re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", one, str(value))


def _github_steps(ci: Ci, job: str) -> list[Step]:
    values = {"secrets.TWOKEY_CI_KEY": ci.key.read_text()}
    steps = []
    for raw in _yaml("github-actions.yml")["jobs"][job]["steps"]:
        if "run" in raw:
            env = (
                {k: _expr(v, values) for k, v in raw.get("env", {}).items()}
                if job == "twokey"
                else {}
            )
            steps.append(Step(raw["name"], raw["run"], env))
    return steps


def _github(ci: Ci) -> dict[str, int]:
    github_env = ci.work.parent / "github_env"
    github_env.write_text("")
    runner_temp = ci.work.parent / "runner-temp"
    runner_temp.mkdir()
    ci.env.update(GITHUB_BASE_REF="main", GITHUB_ENV=str(github_env), RUNNER_TEMP=str(runner_temp))
    codes = {}
    for step in _github_steps(ci, "twokey"):
        if step.name == "Install twokey":
            assert "pip install twokey" in step.script
            continue
        result = _run(ci, step, ["bash", "-e", "-o", "pipefail", "-c"])
        codes[step.name] = result.returncode
        ci.env.update(dict(line.split("=", 1) for line in github_env.read_text().splitlines()))
    (deploy,) = [s for s in _github_steps(ci, "deploy") if "deploy request" in s.script]
    assert '--gateway "$TWOKEY_GATEWAY"' in deploy.script
    return codes


def test_github_actions_passing_tests_are_allowed(tmp_path: Path) -> None:
    codes = _github(_setup(tmp_path, passing=True))
    assert codes == dict.fromkeys(
        [
            "Fetch the evidence",
            "Run the tests",
            "Sign the test result",
            "Separation of duties",
            "Fail when the tests failed",
        ],
        0,
    )


def test_github_actions_failing_tests_are_denied(tmp_path: Path) -> None:
    codes = _github(_setup(tmp_path, passing=False))
    assert codes["Sign the test result"] == 0  # the failure is signed too
    assert codes["Separation of duties"] == 1  # CHECK_FAILED
    assert codes["Fail when the tests failed"] == 1


# --- GitLab CI -----------------------------------------------------------------------------


def _gitlab(ci: Ci) -> tuple[int, str]:
    job = _yaml("gitlab-ci.yml")["twokey"]
    assert job["before_script"] == ["python -m pip install twokey"]
    ci.env.update(
        CI_MERGE_REQUEST_TARGET_BRANCH_NAME="main",
        TWOKEY_CI_KEY=str(ci.key),
        TWOKEY_PUSH_TOKEN="glpat-test",
        CI_SERVER_HOST="gitlab.test",
        CI_PROJECT_PATH="group/app",
    )
    result = _run(
        ci, Step("script", "\n".join(job["script"]), {}), ["bash", "-e", "-o", "pipefail", "-c"]
    )
    deploy = " ".join(_yaml("gitlab-ci.yml")["deploy"]["script"])
    assert 'twokey deploy request --gateway "$TWOKEY_GATEWAY"' in deploy
    report = ci.work / "twokey.xml"
    return result.returncode, report.read_text() if report.exists() else ""


def test_gitlab_ci_passing_tests_are_allowed(tmp_path: Path) -> None:
    code, report = _gitlab(_setup(tmp_path, passing=True))
    assert code == 0
    assert "<testsuite" in report
    assert "CHECK_FAILED" not in report


def test_gitlab_ci_failing_tests_are_denied(tmp_path: Path) -> None:
    code, report = _gitlab(_setup(tmp_path, passing=False))
    assert code == 1
    assert "CHECK_FAILED" in report


# --- Jenkins -------------------------------------------------------------------------------


def _jenkins_steps() -> list[Step]:
    text = (EXAMPLES / "Jenkinsfile").read_text()
    steps = []
    for stage in re.finditer(r"stage\('([^']+)'\)(.*?)(?=\n        stage\(|\Z)", text, re.S):
        for script in re.findall(r"sh '''(.*?)'''", stage.group(2), re.S):
            steps.append(Step(stage.group(1), script, {}))
    return steps


def _jenkins(ci: Ci) -> dict[str, int]:
    ci.env.update(TWOKEY_CI_KEY_FILE=str(ci.key), CHANGE_TARGET="main")
    codes = {}
    for step in _jenkins_steps():
        if step.name == "Deploy":
            assert 'twokey deploy request --gateway "$TWOKEY_GATEWAY"' in step.script
            continue
        codes[step.name] = _run(ci, step, ["sh", "-xe", "-c"]).returncode
    return codes


def test_jenkins_passing_tests_are_allowed(tmp_path: Path) -> None:
    codes = _jenkins(_setup(tmp_path, passing=True))
    assert codes == {"Fetch the evidence": 0, "Test and sign": 0, "Separation of duties": 0}


def test_jenkins_failing_tests_are_denied(tmp_path: Path) -> None:
    codes = _jenkins(_setup(tmp_path, passing=False))
    assert codes == {"Fetch the evidence": 0, "Test and sign": 0, "Separation of duties": 1}
