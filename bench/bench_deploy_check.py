"""Benchmark: ``twokey deploy check`` as a whole process, against ``python -c pass``.

Run: ``.venv/bin/python bench/bench_deploy_check.py [--rounds 15] [--quick] [--instructions]``

Builds an origin with the policy and a short history, a deploy job's clone with CI's
provenance and an operator's deploy approval, then times the allowed deploy check (no ledger)
and ``python -c pass`` interleaved, and counts the git processes one check runs (through a
``git`` wrapper on ``PATH``). Issue 10 item 9 asks for < 60 ms; see bench/deploy-check.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519

from _bench_env import ENV, instructions  # the bench directory: scripts run from it
from twokey.evidence import (
    Ed25519Signer,
    GitEvidenceStore,
    sign_deploy_approval,
    sign_provenance,
)

POLICY = """\
version: 1
people:
  alice: {{name: Alice, emails: [alice@example.com]}}
  dave: {{name: Dave, emails: [dave@example.com], keys: ["{dave}"]}}
  erin: {{name: Erin, emails: [erin@example.com]}}
services:
  ci: {{name: CI, emails: [ci@example.com], keys: ["{ci}"]}}
groups:
  admins: [alice, erin]
branches:
  main: {{approvals: 1, approvers: [dave]}}
environments:
  production:
    from: [main]
    deployers: [ci]
    approvals: 1
    approvers: [dave]
    builders: [ci]
policy_changes: {{approvals: 2, approvers: [admins]}}
"""
ARTIFACT = "sha256:" + hashlib.sha256(b"app").hexdigest()


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, env=ENV, check=True)
    return done.stdout.decode().strip()


def _signer() -> Ed25519Signer:
    return Ed25519Signer(ed25519.Ed25519PrivateKey.generate())


def build(root: Path) -> Path:
    """The origin, its history and the deploy job's clone (evidence stored); the clone."""
    dave, ci = _signer(), _signer()
    git("init", "-q", "--bare", "-b", "main", str(root / "origin.git"), cwd=root)
    seed = root / "seed"
    git("clone", "-q", str(root / "origin.git"), str(seed), cwd=root)
    (seed / ".twokey").mkdir()
    (seed / ".twokey" / "policy.yml").write_text(
        POLICY.format(dave=dave.public_key, ci=ci.public_key)
    )
    git("add", "-A", cwd=seed)
    git("commit", "-q", "-m", "Policy", cwd=seed)
    for i in range(20):
        (seed / f"f{i}.txt").write_text(f"{i}\n")
        git("add", "-A", cwd=seed)
        git("commit", "-q", "-m", f"Change {i}", cwd=seed)
    git("push", "-q", "origin", "main", cwd=seed)
    job = root / "job"
    git("clone", "-q", str(root / "origin.git"), str(job), cwd=root)
    git("config", "twokey.repository", "shop", cwd=job)
    commit = git("rev-parse", "HEAD", cwd=job)
    store = GitEvidenceStore(job / ".git")
    when = datetime.now(UTC)
    store.put(
        sign_provenance(ci, artifact=ARTIFACT, repository="shop", commit=commit, when=when),
        ARTIFACT,
    )
    approval = sign_deploy_approval(
        dave,
        artifact=ARTIFACT,
        environment="production",
        repository="shop",
        commit=commit,
        when=when,
    )
    store.put(approval, ARTIFACT)
    return job


def _time(args: list[str], cwd: Path, env: dict[str, str], code: int) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, check=False)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != code:
        raise SystemExit(f"{args[:4]} exited {done.returncode}: {done.stdout!r} {done.stderr!r}")
    return elapsed


def _git_processes(check: list[str], job: Path, root: Path) -> int:
    """How many git processes one check runs (a logging wrapper first on PATH)."""
    real = subprocess.run(["which", "git"], capture_output=True, text=True, check=True)
    shim = root / "shim"
    shim.mkdir()
    log = root / "git.log"
    (shim / "git").write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec {real.stdout.strip()} "$@"\n')
    (shim / "git").chmod(0o755)
    env = {**ENV, "PATH": f"{shim}{os.pathsep}{ENV.get('PATH', '')}"}
    _time(check, job, env, 0)
    return len(log.read_text().splitlines())


def _instructions(
    module: list[str], job: Path, base_env: dict[str, str], args: argparse.Namespace
) -> list[tuple[str, int]]:
    counted = [("python -c pass", instructions([sys.executable, "-c", "pass"], ENV, job))]
    counted.append(("python -m twokey deploy", instructions(module, ENV, job)))
    if args.baseline:
        counted.append(("baseline", instructions(module, base_env, job)))
    return counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="3 rounds (smoke)")
    parser.add_argument("--keep", metavar="DIR", help="build in DIR and keep it (to profile)")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a directory holding another twokey package (e.g. main's src/, from git archive): "
        "timed with python -m twokey in the same rounds, to isolate what a change saves",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count the instructions of one check's Python process (valgrind's callgrind: "
        "the same on every run, whatever the machine's load)",
    )
    args = parser.parse_args()
    rounds = 3 if args.quick else args.rounds
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep or tmp)
        root.mkdir(parents=True, exist_ok=True)
        job = build(root)
        load = os.getloadavg()[0]
        args_ = ["deploy", "check", "--environment", "production", "--artifact", ARTIFACT]
        args_ += ["--commit", "origin/main", "--deployer", "ci"]
        script = Path(sys.executable).with_name("twokey")  # what a deploy job runs
        check = [str(script), *args_] if script.exists() else [sys.executable, "-m", "twokey"]
        module = [sys.executable, "-m", "twokey", *args_]
        _time(check, job, ENV, 0)  # warm: bytecode written
        base_env = {**ENV, "PYTHONPATH": str(args.baseline)} if args.baseline else ENV
        if args.baseline:
            _time(module, job, base_env, 0)
        floor, door, door_m, base = [], [], [], []
        for _ in range(rounds):
            floor.append(_time([sys.executable, "-c", "pass"], job, ENV, 0))
            door.append(_time(check, job, ENV, 0))
            door_m.append(_time(module, job, ENV, 0))
            if args.baseline:
                base.append(_time(module, job, base_env, 0))
        processes = _git_processes(check, job, root)
        counted = _instructions(module, job, base_env, args) if args.instructions else []
    med = statistics.median
    print(f"{rounds} rounds; load average {load:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(f"python -c pass             {med(floor):7.1f} ms  (min {min(floor):.1f})")
    rows = [("twokey deploy check", door), ("python -m twokey deploy", door_m)]
    rows += [("baseline: python -m twokey", base)] if base else []
    for label, times in rows:
        ratio = med(times) / med(floor)
        print(
            f"{label:26} {med(times):7.1f} ms  (+{med(times) - med(floor):.1f} ms, "
            f"{ratio:.1f}x python -c pass; min {min(times):.1f} ms = "
            f"{min(times) / min(floor):.1f}x the floor's min)"
        )
    print(f"git processes per check {processes}")
    for label, count in counted:
        print(f"instructions {label:24} {count / 1e6:8.1f} M")


if __name__ == "__main__":
    main()
