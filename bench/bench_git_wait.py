"""Benchmark: how long each door waits on git (ADR 0037), against another twokey's code.

Run: ``.venv/bin/python bench/bench_git_wait.py --baseline DIR/src [--rounds 20]``

Wall time on this shared machine is mostly other people's load; what a change to the doors'
git reads moves is the time the door's own process spends starting git processes and waiting
for their answers. Each door runs under ``_git_wait.py`` (a wrapper that times ``Popen`` and
``communicate``) for this code and the baseline's, interleaved: ``twokey deploy check`` as
``bench_deploy_check.py`` builds it (no ledger), and the in-process pre-receive hook pushed an
approved commit with its approval as ``bench_hook.py`` does (1,000 commits). Reports, per door
and code, the medians and minimums of the whole run (``total``), of the time blocked in git
(``spawn`` + ``wait``) and the number of git processes started. See bench/deploy-check.md and
bench/hook.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519

import bench_deploy_check as deploy_bench
import bench_hook as hook_bench
from _bench_env import ENV  # the bench directory: scripts run from it
from twokey.doors import install_hook
from twokey.evidence import Ed25519Signer

WRAPPER = Path(__file__).with_name("_git_wait.py")


def _summary(label: str, runs: list[dict[str, float]]) -> str:
    def stat(values: list[float]) -> str:
        return f"{statistics.median(values):6.1f} (min {min(values):5.1f})"

    blocked = [r["spawn"] + r["wait"] for r in runs]
    return (
        f"{label:22} total {stat([r['total'] for r in runs])}  blocked in git {stat(blocked)}"
        f"  spawn {stat([r['spawn'] for r in runs])}  wait {stat([r['wait'] for r in runs])}"
        f"  git processes {int(statistics.median(r['n'] for r in runs))}"
    )


def _read(log: Path) -> list[dict[str, float]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def deploy_rounds(root: Path, codes: dict[str, Path], rounds: int) -> list[str]:
    job = deploy_bench.build(root)
    args = ["deploy", "check", "--environment", "production", "--artifact"]
    args += [deploy_bench.ARTIFACT, "--commit", "origin/main", "--deployer", "ci"]
    logs = {name: root / f"deploy-{name}.jsonl" for name in codes}
    for turn in range(rounds + 1):  # the first round writes bytecode: not counted
        names = list(codes) if turn % 2 == 0 else list(codes)[::-1]
        for name in names:
            env = {**ENV, "PYTHONPATH": str(codes[name])}
            command = [sys.executable, str(WRAPPER), str(logs[name]), "deploy", *args]
            subprocess.run(command, cwd=job, env=env, capture_output=True, check=True)
    return [_summary(f"deploy check, {name}", _read(logs[name])[1:]) for name in codes]


def hook_rounds(root: Path, codes: dict[str, Path], rounds: int) -> list[str]:
    bob = Ed25519Signer(ed25519.Ed25519PrivateKey.generate())
    origin = hook_bench.build(root, 1000, hook_bench.POLICY.format(bob=bob.public_key))
    servers, logs = {}, {}
    for name, src in {"plain": None, **codes}.items():
        server = root / f"{name}.git"
        hook_bench.git("clone", "-q", "--bare", "--local", str(origin), str(server))
        hook_bench.git("commit-graph", "write", "--reachable", cwd=server)
        if src is not None:
            logs[name] = root / f"hook-{name}.jsonl"
            python = root / f"python-{name}"
            python.write_text(
                f"#!/bin/sh\nPYTHONPATH={src} exec {sys.executable} {WRAPPER} {logs[name]} "
                'hook "$@"\n'
            )
            python.chmod(0o755)
            install_hook(server, repository="bench", python=str(python))
        servers[name] = server
    work = hook_bench.client(root, origin)
    pushes: dict[str, list[float]] = {name: [] for name in servers}
    for turn in range(rounds + 1):
        (work / "change.txt").write_text(f"{turn}\n")
        hook_bench.git("add", "change.txt", cwd=work)
        hook_bench.git("commit", "-qm", f"change {turn}", cwd=work)
        ref = hook_bench.approve(work, bob)
        order = list(servers)[turn % 3 :] + list(servers)[: turn % 3]
        for name in order:
            took = hook_bench.timed_push(work, servers[name], "main", f"{ref}:{ref}")
            if turn:
                pushes[name].append(took * 1000)
    lines = [f"push without a hook     {statistics.median(pushes['plain']):6.1f} ms median"]
    for name in codes:
        push = statistics.median(pushes[name])
        lines.append(f"{_summary(f'hook, {name}', _read(logs[name])[1:])}  push {push:6.1f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--baseline", type=Path, required=True, help="another twokey's src/")
    args = parser.parse_args()
    this = Path(__file__).resolve().parent.parent / "src"
    codes = {"this": this, "baseline": args.baseline.resolve()}
    load = os.getloadavg()[0]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "deploy").mkdir()
        (root / "hook").mkdir()
        lines = deploy_rounds(root / "deploy", codes, args.rounds)
        lines += hook_rounds(root / "hook", codes, args.rounds)
    print(f"{args.rounds} rounds; load average {load:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(*lines, sep="\n")
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
