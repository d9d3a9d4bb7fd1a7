"""The deploy steps of the CI examples (examples/), run as written against a running gateway.

Each example's deploy step asks the gateway for a deploy as CI (a service token in
``TWOKEY_TOKEN``), waits while it is pending, and verifies the signed authorization offline with
the gateway's key committed in the repository. Here the step runs in a job directory holding
the artifact and ``.twokey/gateway.pub``; dave (an operator who neither wrote nor approved the
release) approves through the API while the step waits; the step must end authorized and
verified (exit 0), and with nobody approving it must end not authorized (exit 1).
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.integration.gateway._deploy_world import DeployWorld, make_deploy_world
from tests.integration.git._harness import Keys

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
COMMIT_VARIABLE = {"github": "GITHUB_SHA", "gitlab": "CI_COMMIT_SHA", "jenkins": "GIT_COMMIT"}


def _deploy_script(example: str) -> str:
    """The shell text of the example's deploy step, exactly as the file has it."""
    if example == "github":
        jobs = YAML(typ="safe").load((EXAMPLES / "github-actions.yml").read_text())["jobs"]
        steps = [s for s in jobs["deploy"]["steps"] if "deploy request" in s.get("run", "")]
        return str(steps[0]["run"])
    if example == "gitlab":
        job = YAML(typ="safe").load((EXAMPLES / "gitlab-ci.yml").read_text())["deploy"]
        return "\n".join(job["script"])
    text = (EXAMPLES / "Jenkinsfile").read_text()
    stage = text[text.index("stage('Deploy')") :]
    return str(re.findall(r"sh '''(.*?)'''", stage, re.S)[0])


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys.generate()


@pytest.fixture(scope="module")
def dw(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Iterator[DeployWorld]:
    world = make_deploy_world(tmp_path_factory.mktemp("ci-deploys"), keys, "")
    try:
        yield world
    finally:
        world.gateway.stop()


def _job(dw: DeployWorld, tmp_path: Path) -> Path:
    """A job directory: the artifact CI built (its digest is the one with provenance) and the
    gateway's key as the repository keeps it."""
    job = tmp_path / "job"
    (job / "dist").mkdir(parents=True)
    (job / "dist" / "app.tar.gz").write_bytes(b"app")  # sha256 = _deploys.ARTIFACT
    (job / ".twokey").mkdir()
    with dw.client() as http:
        (job / ".twokey" / "gateway.pub").write_text(http.get("/v1/key").text)
    return job


def _approve_when_pending(dw: DeployWorld, stop: threading.Event) -> None:
    """dave approves each pending request of the release as it appears."""
    while not stop.is_set():
        with dw.client("dave") as http:
            pending = http.get("/v1/deploys", params={"state": "pending"}).json()["deploys"]
            for item in pending:
                http.post(f"/v1/deploys/{item['id']}/approve")
        time.sleep(0.2)


def _run(dw: DeployWorld, example: str, job: Path, wait: int) -> subprocess.CompletedProcess[str]:
    """The step's script in ``job`` as CI runs it (``--wait`` shortened to ``wait`` s)."""
    env = {**dw.env("ci"), COMMIT_VARIABLE[example]: dw.z}
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"  # this checkout's twokey
    script = _deploy_script(example)
    assert "--wait 1800" in script
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script.replace("--wait 1800", f"--wait {wait}")],
        cwd=job,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("example", ["github", "gitlab", "jenkins"])
def test_the_deploy_step_is_authorized_once_an_operator_approves(
    dw: DeployWorld, tmp_path: Path, example: str
) -> None:
    job = _job(dw, tmp_path)
    stop = threading.Event()
    approver = threading.Thread(target=_approve_when_pending, args=(dw, stop), daemon=True)
    approver.start()
    try:
        result = _run(dw, example, job, wait=60)
    finally:
        stop.set()
        approver.join(10)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (job / "deploy.auth").read_text().startswith("twokey deploy authorization v1")


def test_the_deploy_step_fails_while_nobody_approves(dw: DeployWorld, tmp_path: Path) -> None:
    job = _job(dw, tmp_path)
    result = _run(dw, "github", job, wait=1)
    assert result.returncode == 1, result.stdout + result.stderr
    assert ": PENDING\n" in result.stdout  # one line each, not one escaped line
    assert "you may not approve it: ci is a service" in result.stdout
    assert not (job / "deploy.auth").exists()
