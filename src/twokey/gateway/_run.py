"""The gateway runs the deploy itself (``twokey serve --run ENV=COMMAND``).

Then only the gateway holds production credentials: once a deploy to ENV is authorized, a
runner thread in some gateway process claims it (a row of ``twokey_gateway_runs`` keyed by the
request: the database lets exactly one process insert it, so several processes never run one
deploy twice), records ``run-started`` in the ledger, marks the request ``running``, runs
``sh -c COMMAND`` in a process group of its own with::

    DEPLOY_ID  DEPLOY_REPOSITORY  DEPLOY_ENVIRONMENT  DEPLOY_COMMIT  DEPLOY_ARTIFACT
    DEPLOY_REQUESTER  DEPLOY_AUTHORIZATION (a 0600 file holding the signed authorization)

kills the whole group after ``--run-timeout`` seconds, and records ``run-finished`` (exit
status, whether it timed out, the output's last ``OUTPUT_LIMIT`` bytes and its SHA-256) before
the request becomes ``deployed`` or ``failed``. ``GET /v1/deploys/{id}/run`` shows it. The
command is the operator's configuration; callers only ever influence the DEPLOY_* values, which
the gateway checked (hex commit, ``sha256:`` digest, a policy environment name).
"""

from __future__ import annotations

__all__ = ["OUTPUT_LIMIT", "Runner", "router", "setup", "shutdown"]

import contextlib
import hashlib
import logging
import os
import signal
import subprocess
import threading
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request

from twokey.errors import TwokeyError
from twokey.gateway._auth import Caller, authenticated, gateway_of
from twokey.gateway._deploys import DeployService, DeployView

if TYPE_CHECKING:
    from twokey.gateway._state import Gateway

log = logging.getLogger("twokey.gateway.run")
router = APIRouter(tags=["deploys"])
OUTPUT_LIMIT = 16 * 1024  # bytes of output kept (the tail), in the ledger and the table
_POLL = 1.0  # seconds between looks for authorized deploys to run
_KILL_GRACE = 5.0  # seconds between SIGTERM and SIGKILL of a timed-out group

TABLES = (
    """CREATE TABLE IF NOT EXISTS twokey_gateway_runs (
        deploy TEXT PRIMARY KEY,
        runner TEXT NOT NULL,
        started TEXT NOT NULL,
        finished TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'claimed',
        exit INTEGER,
        timed_out INTEGER NOT NULL DEFAULT 0,
        output TEXT NOT NULL DEFAULT ''
    )""",
)


class Runner:
    """One process's runner thread: looks for authorized deploys it has a command for."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.commands: dict[str, str] = dict(gateway.config.extra.get("run") or {})
        self.timeout = float(gateway.config.extra.get("run_timeout") or 600)
        self.name = f"{os.uname().nodename}:{os.getpid()}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="twokey-runner", daemon=True)

    def start(self) -> None:
        """Start polling (only when some environment has a command)."""
        if self.commands:
            self._thread.start()

    def stop(self) -> None:
        """Stop polling; a command already running is left to finish its timeout."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2)

    def _loop(self) -> None:
        while not self._stop.wait(_POLL):
            try:
                self.run_waiting()
            except Exception:  # a failed look is retried at the next poll (logged)
                log.exception("the deploy runner failed to look for work")

    def run_waiting(self) -> int:
        """Run every authorized deploy nobody claimed yet; returns how many this process ran."""
        rows = self.gateway.db.rows(
            "SELECT id, environment FROM twokey_gateway_deploys WHERE state = 'authorized' "
            "AND id NOT IN (SELECT deploy FROM twokey_gateway_runs) ORDER BY created"
        )
        rows = [(i, env) for i, env in rows if env in self.commands]
        ran = 0
        for deploy_id, _env in rows:
            if self._claim(str(deploy_id)):
                self._run(DeployService(self.gateway).get(str(deploy_id)))
                ran += 1
        return ran

    def _claim(self, deploy_id: str) -> bool:
        """Insert the run's row: the primary key lets exactly one process have it."""
        try:
            inserted = self.gateway.db.execute(
                "INSERT INTO twokey_gateway_runs (deploy, runner, started) VALUES (?, ?, ?) "
                "ON CONFLICT (deploy) DO NOTHING",
                (deploy_id, self.name, self.gateway.now().isoformat()),
            )
        except TwokeyError:
            return False
        return inserted == 1

    def _run(self, view: DeployView) -> None:
        service = DeployService(self.gateway)
        started = self._event(view, "run-started", {"runner": self.name})
        if started is None or not service.mark(view, "authorized", "running", started):
            self._finish_row(view.id, "skipped", None, False, "")
            return
        exit_code, timed_out, output = self._execute(view, service.authorization(view.id))
        data = output[-OUTPUT_LIMIT:].decode("utf-8", "replace")
        detail = {
            "runner": self.name,
            "exit": exit_code,
            "timed_out": timed_out,
            "output": data,
            "output_sha256": hashlib.sha256(output).hexdigest(),
            "output_bytes": len(output),
        }
        finished = self._event(view, "run-finished", detail)
        state = "deployed" if exit_code == 0 and not timed_out else "failed"
        self._finish_row(view.id, state, exit_code, timed_out, data)
        if finished is not None:
            current = service.get(view.id)
            service.mark(current, "running", state, finished)

    def _event(self, view: DeployView, event: str, detail: dict[str, Any]) -> list[int] | None:
        from twokey.ledger import GatewayDeployRecord, to_entry  # noqa: PLC0415

        record = GatewayDeployRecord(
            "gateway",
            event,
            view.id,
            view.repository,
            view.environment,
            view.commit,
            view.artifact,
            "gateway",
            detail,
        )
        try:
            return self.gateway.record([to_entry(record, self.gateway.now())])
        except TwokeyError:
            log.exception("cannot record %s of deploy %s", event, view.id)
            return None

    def _execute(self, view: DeployView, note: str) -> tuple[int | None, bool, bytes]:
        """Run the environment's command; (exit status, timed out, output)."""
        runs = self.gateway.config.data / "runs"
        runs.mkdir(mode=0o700, exist_ok=True)
        auth = runs / f"{view.id}.authorization"
        fd = os.open(auth, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(note)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DEPLOY_ID": view.id,
            "DEPLOY_REPOSITORY": view.repository,
            "DEPLOY_ENVIRONMENT": view.environment,
            "DEPLOY_COMMIT": view.commit,
            "DEPLOY_ARTIFACT": view.artifact,
            "DEPLOY_REQUESTER": view.requester,
            "DEPLOY_AUTHORIZATION": str(auth),
        }
        process = subprocess.Popen(  # the operator's configured command
            ["/bin/sh", "-c", self.commands[view.environment]],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group, killed as one
            cwd=runs,
        )
        try:
            output, _ = process.communicate(timeout=self.timeout)
            return process.returncode, False, output
        except subprocess.TimeoutExpired:
            _kill_group(process)
            output, _ = process.communicate()
            return None, True, output + b"\n[twokey: killed after the run timeout]\n"

    def _finish_row(
        self, deploy_id: str, status: str, exit_code: int | None, timed_out: bool, output: str
    ) -> None:
        with contextlib.suppress(TwokeyError):
            self.gateway.db.execute(
                "UPDATE twokey_gateway_runs SET status = ?, exit = ?, timed_out = ?, "
                "output = ?, finished = ? WHERE deploy = ?",
                (
                    status,
                    exit_code,
                    int(timed_out),
                    output,
                    self.gateway.now().isoformat(),
                    deploy_id,
                ),
            )


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, SIGKILL it after a grace period."""
    for sig, wait in ((signal.SIGTERM, _KILL_GRACE), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        if wait is None:
            return
        try:
            process.wait(wait)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # children that outlived the leader
            return
        except subprocess.TimeoutExpired:
            continue


@router.get("/v1/deploys/{deploy_id}/run")
def deploy_run(
    deploy_id: str, request: Request, _caller: Annotated[Caller, Depends(authenticated)]
) -> dict[str, Any]:
    """The gateway's run of a deploy: who ran it, when, its exit status and output's tail."""
    gateway = gateway_of(request)
    view = DeployService(gateway).get(deploy_id)
    rows = gateway.db.rows(
        "SELECT runner, started, finished, status, exit, timed_out, output "
        "FROM twokey_gateway_runs WHERE deploy = ?",
        (view.id,),
    )
    if not rows:
        raise HTTPException(404, f"deploy request {view.id} has not been run by the gateway")
    runner, started, finished, status, code, timed_out, output = rows[0]
    return {
        "id": view.id,
        "state": view.state,
        "runner": runner,
        "started": started,
        "finished": finished,
        "status": status,
        "exit": code,
        "timed_out": bool(timed_out),
        "output": output,
    }


_RUNNERS: dict[int, Runner] = {}  # this process's runner of each Gateway, by id()


def setup(gateway: Gateway) -> None:
    """Create the runs table; start this process's runner when ``--run`` names commands."""
    gateway.create_tables(TABLES)
    runner = Runner(gateway)
    _RUNNERS[id(gateway)] = runner
    runner.start()


def shutdown(gateway: Gateway) -> None:
    """Stop this process's runner."""
    runner = _RUNNERS.pop(id(gateway), None)
    if runner is not None:
        runner.stop()
