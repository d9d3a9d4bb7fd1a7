"""Benchmark: what the pre-receive hook adds to a push, on a repository with 100,000 commits.

Run: ``.venv/bin/python bench/bench_hook.py [--commits 100000] [--rounds 7]``

Same run, same client, same commits: every push goes to servers cloned from one repository,
with the twokey hook and without; the difference is the hook's cost (Python start-up
included). Two kinds of 1-commit push: the approved commit itself (fast-forward: no landing to
compute), and a squash of an approved branch head pushed with it (the approval binds through
``git merge-tree --write-tree OLD HEAD``, ADR 0011). A second, small repository shows that the
cost does not grow with history. Then one push of 1,000 new commits at once. Results go into
``bench/hook.md``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519

from _bench_env import ENV  # the bench directory: scripts run from it
from twokey.doors import install_hook
from twokey.evidence import Ed25519Signer, GitEvidenceStore, sign_approval

POLICY = """\
version: 1
people:
  alice: {{name: Alice, emails: [alice@example.com]}}
  bob: {{name: Bob, emails: [bob@example.com], keys: ["{bob}"]}}
groups:
  reviewers: [bob]
  admins: [alice, bob]
branches:
  main: {{approvals: 1, approvers: [reviewers]}}
policy_changes: {{approvals: 2, approvers: [admins]}}
"""


LOAD = [0.0]  # the load average when the run started (the machine may be shared)
INSTRUCTIONS = [False]  # --instructions


def git(*args: str, cwd: Path | None = None, stdin: bytes | None = None) -> str:
    out = subprocess.run(
        ["git", *args], cwd=cwd, input=stdin, capture_output=True, env=ENV, check=True
    )
    return out.stdout.decode().strip()


def fast_import_stream(commits: int, policy: str, start: int = 0, parent: str = "") -> bytes:
    """``git fast-import`` input: a linear history, one small file change per commit."""
    parts = []
    for i in range(start, start + commits):
        message = f"commit {i}\n".encode()
        parts.append(b"commit refs/heads/main\n")
        parts.append(f"mark :{i + 1}\n".encode())
        parts.append(
            f"committer Alice Smith <alice@example.com> {1_600_000_000 + i} +0000\n".encode()
        )
        parts.append(b"data %d\n%s" % (len(message), message))
        if i == start and parent:
            parts.append(f"from {parent}\n".encode())
        if i == 0:
            data = policy.encode()
            parts.append(b"M 100644 inline .twokey/policy.yml\ndata %d\n%s\n" % (len(data), data))
        body = f"{i}\n".encode()
        parts.append(b"M 100644 inline src/file%d.txt\ndata %d\n%s\n" % (i % 1000, len(body), body))
    return b"".join(parts)


def build(root: Path, commits: int, policy: str) -> Path:
    origin = root / "origin.git"
    git("init", "-q", "--bare", "-b", "main", str(origin))
    git("fast-import", "--quiet", cwd=origin, stdin=fast_import_stream(commits, policy))
    git("repack", "-adq", cwd=origin)
    git("commit-graph", "write", "--reachable", cwd=origin)
    return origin


def servers(root: Path, origin: Path, sock: Path, baseline: Path | None) -> list[Path]:
    """Bare clones: no hook, the hook in-process, the hook with a warm server; with a
    ``baseline``, the same two hooks running the baseline's code (``PYTHONPATH``)."""
    names = ["plain", "hooked", "served"] + (["base-hooked", "base-served"] if baseline else [])
    paths = [root / f"{name}.git" for name in names]
    for path in paths:
        git("clone", "-q", "--bare", "--local", str(origin), str(path))
        git("commit-graph", "write", "--reachable", cwd=path)
    install_hook(paths[1], repository="bench")
    install_hook(paths[2], repository="bench", server_socket=sock)
    if baseline is not None:
        python = root / "python-baseline"
        python.write_text(f'#!/bin/sh\nPYTHONPATH={baseline} exec {sys.executable} "$@"\n')
        python.chmod(0o755)
        install_hook(paths[3], repository="bench", python=str(python))
        install_hook(paths[4], repository="bench", python=str(python), server_socket=_base(sock))
    return paths


def _base(sock: Path) -> Path:
    return sock.with_name(f"base-{sock.name}")


def start_server(sock: Path, baseline: Path | None = None) -> subprocess.Popen[bytes]:
    """``twokey hook serve`` (the warm server), waited for until its socket exists."""
    env = {**ENV, "PYTHONPATH": str(baseline)} if baseline else ENV
    proc = subprocess.Popen(
        [sys.executable, "-m", "twokey", "hook", "serve", "--socket", str(sock)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not sock.exists():
        if time.monotonic() > deadline:
            raise SystemExit("hook server did not start")
        time.sleep(0.05)
    return proc


def client(root: Path, origin: Path) -> Path:
    work = root / "client"
    git("clone", "-q", "--shared", str(origin), str(work))
    return work


def timed_push(work: Path, server: Path, *refspecs: str) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        ["git", "push", "-q", str(server), *refspecs],
        cwd=work,
        capture_output=True,
        env=ENV,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"push to {server.name} failed:\n{result.stderr.decode()}")
    return elapsed


def approve(work: Path, bob: Ed25519Signer) -> str:
    commit = git("rev-parse", "HEAD", cwd=work)
    tree = git("rev-parse", "HEAD^{tree}", cwd=work)
    envelope = sign_approval(
        bob,
        repository="bench",
        ref="refs/heads/main",
        commit=commit,
        tree=tree,
        when=datetime.now(UTC),
    )
    return GitEvidenceStore(work / ".git").put(envelope, commit)


def squashed(work: Path, bob: Ed25519Signer, i: int) -> tuple[str, ...]:
    """A branch head approved by Bob, squashed onto main: the hook computes its landing."""
    branch = f"review/{i}"
    git("checkout", "-q", "-b", branch, "main", cwd=work)
    (work / "change.txt").write_text(f"squash {i}\n")
    git("add", "change.txt", cwd=work)
    git("commit", "-qm", f"change {i}", cwd=work)
    ref = approve(work, bob)
    git("checkout", "-q", "main", cwd=work)
    git("merge", "-q", "--squash", branch, cwd=work)
    git("commit", "-qm", f"change {i} (squashed)", cwd=work)
    return ("main", branch, f"{ref}:{ref}")


def git_processes(work: Path, server: Path, bob: Ed25519Signer) -> list[str]:
    """The git commands the in-process hook runs for one approved commit pushed with its
    approval (``GIT_TRACE`` of the push, between the pre-receive hook's start and its end)."""
    (work / "change.txt").write_text("counted\n")
    git("add", "change.txt", cwd=work)
    git("commit", "-qm", "counted", cwd=work)
    ref = approve(work, bob)
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "trace"
        subprocess.run(
            ["git", "push", "-q", str(server), "main", f"{ref}:{ref}"],
            cwd=work,
            env={**ENV, "GIT_TRACE": str(trace)},
            capture_output=True,
            check=True,
        )
        lines = trace.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "hooks/pre-receive" in line)
    end = next((i for i, line in enumerate(lines) if "hooks/post-receive" in line), len(lines))
    hooked = (line.split("built-in: git ", 1) for line in lines[start:end])
    return [parts[1].split()[0] for parts in hooked if len(parts) == 2]


def python_floor() -> float:
    """One ``python -c pass``: the interpreter's own start-up, the floor of any hook."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], env=ENV, check=True)
    return time.perf_counter() - start


def one_commit_rounds(
    work: Path,
    targets: list[Path],
    bob: Ed25519Signer,
    rounds: int,
    squash: bool = False,
    floor: list[float] | None = None,
) -> list[list[float]]:
    """Push one new approved commit (or squash) to every target per round; times per target.

    ``floor`` collects one ``python -c pass`` per round, timed between the pushes.
    """
    times: list[list[float]] = [[] for _ in targets]
    for i in range(rounds):
        if squash:
            refspecs = squashed(work, bob, i)
        else:
            (work / "change.txt").write_text(f"{i}\n")
            git("add", "change.txt", cwd=work)
            git("commit", "-qm", f"change {i}", cwd=work)
            ref = approve(work, bob)
            refspecs = ("main", f"{ref}:{ref}")
        # rotate the order so that no target always runs with the warmest caches
        order = list(range(len(targets)))
        order = order[i % len(order) :] + order[: i % len(order)]
        for k in order:
            times[k].append(timed_push(work, targets[k], *refspecs))
        if floor is not None:
            floor.append(python_floor())
    return times


def many_commits(work: Path, targets: list[Path], bob: Ed25519Signer, count: int) -> list[float]:
    head = git("rev-parse", "HEAD", cwd=work)
    stream = fast_import_stream(count, "", start=10_000_000, parent=head)
    git("fast-import", "--quiet", "--force", cwd=work / ".git", stdin=stream)
    git("reset", "-q", "--hard", "main", cwd=work)
    ref = approve(work, bob)
    return [timed_push(work, target, "main", f"{ref}:{ref}") for target in targets]


def instructions(
    root: Path, plain: Path, work: Path, bob: Ed25519Signer, baseline: Path | None
) -> dict[str, float]:
    """Instructions (callgrind's Ir) of the in-process hook's Python process for one approved
    commit (not git's, nor the processes the hook starts): the same on every run, whatever the
    load. A first push per hook writes its bytecode and its policy cache; the second is counted.
    """
    counted: dict[str, float] = {}
    variants = [("this", None)] + ([("baseline", baseline)] if baseline else [])
    for label, path in variants:
        bare = root / f"cg-{label}.git"
        git("clone", "-q", "--bare", "--local", str(plain), str(bare))  # up to date
        log = root / f"cg-{label}.log"
        python = root / f"python-cg-{label}"
        env = f"PYTHONPATH={path} " if path else ""
        python.write_text(
            f"#!/bin/sh\n{env}exec valgrind --tool=callgrind --callgrind-out-file=/dev/null "
            f'--log-file={log} {sys.executable} "$@"\n'
        )
        python.chmod(0o755)
        install_hook(bare, repository="bench", python=str(python))
        for n in range(2):
            (work / "change.txt").write_text(f"instructions {label} {n}\n")
            git("add", "change.txt", cwd=work)
            git("commit", "-qm", f"instructions {label} {n}", cwd=work)
            ref = approve(work, bob)
            for target in (bare, plain):  # the plain server stays up to date for the next
                timed_push(work, target, "main", f"{ref}:{ref}")
        found = re.search(r"Collected : (\d+)", log.read_text())
        if found is None:
            raise SystemExit(f"valgrind failed: {log.read_text()[-500:]}")
        counted[label] = int(found.group(1)) / 1e6
    return counted


def scenario(
    root: Path, commits: int, rounds: int, bob: Ed25519Signer, bulk: int, baseline: Path | None
) -> dict[str, float]:
    policy = POLICY.format(bob=bob.public_key)
    t0 = time.perf_counter()
    origin = build(root, commits, policy)
    built = time.perf_counter() - t0
    sock = root / "hook.sock"
    targets = servers(root, origin, sock, baseline)
    work = client(root, origin)
    procs = [start_server(sock)] + ([start_server(_base(sock), baseline)] if baseline else [])
    try:
        floor: list[float] = []
        times = one_commit_rounds(work, targets, bob, rounds, floor=floor)
        squash = one_commit_rounds(work, targets, bob, rounds, squash=True, floor=floor)
        bulk_times = many_commits(work, targets[:3], bob, bulk) if bulk else []
        processes = git_processes(work, targets[1], bob)
        print(f"{commits:,} commits: the in-process hook's git processes: {' '.join(processes)}")
        counted = instructions(root, targets[0], work, bob, baseline) if INSTRUCTIONS[0] else {}
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait()
    plain, cold, warm = times[:3]
    ms = [statistics.median(t) * 1000 for t in (plain, cold, warm)]
    result = {
        "commits": commits,
        "build_s": built,
        "plain_ms": ms[0],
        "cold_ms": ms[1],
        "warm_ms": ms[2],
        "cold_adds_ms": ms[1] - ms[0],
        "warm_adds_ms": ms[2] - ms[0],
        "python_ms": statistics.median(floor) * 1000,
        "git_processes": len(processes),
    }
    sq = [statistics.median(t) * 1000 for t in squash]
    if baseline is not None:
        for prefix, runs in (("", times), ("sq_", squash)):
            base = [statistics.median(t) * 1000 for t in runs[3:]]
            result[prefix + "base_cold_ms"], result[prefix + "base_warm_ms"] = base
    result.update(
        sq_plain_ms=sq[0],
        sq_cold_ms=sq[1],
        sq_warm_ms=sq[2],
        sq_cold_adds_ms=sq[1] - sq[0],
        sq_warm_adds_ms=sq[2] - sq[0],
    )
    result.update({f"instructions_{k}": v for k, v in counted.items()})
    names = ("bulk_plain_ms", "bulk_cold_ms", "bulk_warm_ms")
    for name, value in zip(names[: len(bulk_times)], bulk_times, strict=True):
        result[name] = value * 1000
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--bulk", type=int, default=1000)
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count the instructions of one in-process hook (valgrind's callgrind, the "
        "hook's Python process only; with --baseline, the baseline's too)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a directory holding another twokey package (e.g. main's src/, from git archive): "
        "its hooks are timed in the same rounds, to isolate what a change adds",
    )
    args = parser.parse_args()
    LOAD[0] = os.getloadavg()[0]
    INSTRUCTIONS[0] = args.instructions
    bob = Ed25519Signer(ed25519.Ed25519PrivateKey.generate())
    root = Path(tempfile.mkdtemp(prefix="twokey-bench-"))
    try:
        rows = [
            scenario(root / "large", args.commits, args.rounds, bob, args.bulk, args.baseline),
            scenario(root / "small", args.small, args.rounds, bob, 0, args.baseline),
        ]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"python {sys.version.split()[0]}, git {git('--version').split()[-1]}, "
        f"{os.cpu_count()} cpus, {args.rounds} rounds (median)"
    )
    print(f"load average before: {LOAD[0]:.2f}, after: {os.getloadavg()[0]:.2f}")
    print("| history | push | no hook | hook, in-process | adds | hook, warm server | adds |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for r in rows:
        for kind, p in (("approved commit", ""), ("squash (merge-tree)", "sq_")):
            print(
                f"| {r['commits']:,} commits | {kind} | {r[p + 'plain_ms']:.0f} ms | "
                f"{r[p + 'cold_ms']:.0f} ms | {r[p + 'cold_adds_ms']:+.0f} ms | "
                f"{r[p + 'warm_ms']:.0f} ms | **{r[p + 'warm_adds_ms']:+.0f} ms** |"
            )
    for r in rows:
        print(
            f"{r['commits']:,} commits: python -c pass {r['python_ms']:.1f} ms in the same "
            f"rounds; the in-process hook adds {r['cold_adds_ms']:.0f} ms = "
            f"{r['cold_adds_ms'] / r['python_ms']:.1f}x python -c pass"
        )
    if args.baseline is not None:
        print(f"\nbaseline code: {args.baseline}")
        print("| history | push | baseline in-process | this | baseline warm | this |")
        print("|---:|---|---:|---:|---:|---:|")
        for r in rows:
            for kind, p in (("approved commit", ""), ("squash (merge-tree)", "sq_")):
                print(
                    f"| {r['commits']:,} commits | {kind} | {r[p + 'base_cold_ms']:.0f} ms | "
                    f"{r[p + 'cold_ms']:.0f} ms | {r[p + 'base_warm_ms']:.0f} ms | "
                    f"{r[p + 'warm_ms']:.0f} ms |"
                )
    for r in rows:
        print(f"{r['commits']:,} commits: {r['git_processes']:.0f} git processes in the hook")
    for r in rows:
        for key in ("this", "baseline"):
            if f"instructions_{key}" in r:
                print(
                    f"{r['commits']:,} commits: instructions of one in-process hook ({key}): "
                    f"{r[f'instructions_{key}']:.1f} M"
                )
    big = rows[0]
    if "bulk_plain_ms" in big:
        print(
            f"\n{args.bulk:,} commits in one push onto {big['commits']:,}: "
            f"no hook {big['bulk_plain_ms']:.0f} ms, in-process {big['bulk_cold_ms']:.0f} ms, "
            f"warm server {big['bulk_warm_ms']:.0f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
