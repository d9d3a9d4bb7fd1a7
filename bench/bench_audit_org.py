"""Organisation audit benchmark: ``twokey audit --repos`` against a shell loop of single audits.

The floor, in the same run: the same repositories audited one after the other, one
``twokey audit --repo R`` process each (what a loop in a shell does). Then ``--repos DIR``
with ``--jobs 1`` (the cost of the worker processes) and with ``--jobs J``. All wall-clock,
best of ``--runs``, interleaved. Peak RSS: the ``--repos`` parent's own (it keeps summaries
only, so it must not grow with the histories) and the largest process of the run (a worker
or its ``git log``), which is one repository's audit.

    .venv/bin/python bench/bench_audit_org.py                      # 8 repositories x 20,000
    .venv/bin/python bench/bench_audit_org.py --repos 16 --count 20000 --jobs 2
    .venv/bin/python bench/bench_audit_org.py --quick              # 3 x 1,000

The generated repositories are cached under ``bench/.cache/`` (gitignored).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from bench_audit import CACHE, generate, timed  # the bench directory: scripts run from it


def _organisation(repos: int, count: int) -> Path:
    """``repos`` bare repositories of ``count`` commits each (one generated, the rest cloned
    with hard links: the same history under different names), made once."""
    root = CACHE / f"org-{repos}x{count}"
    if not root.exists():
        CACHE.mkdir(exist_ok=True)
        source = CACHE / f"org-source-{count}.git"
        if not source.exists():
            generate(source, count, 0)
        root.mkdir()
        for i in range(repos):
            target = root / f"repo{i:03d}.git"
            subprocess.run(["git", "clone", "-q", "--bare", str(source), str(target)], check=True)
    return root


def _loop(root: Path) -> float:
    """The floor: one ``twokey audit`` process per repository, one after the other."""
    total = 0.0
    for repo in sorted(root.iterdir()):
        seconds, _, _ = timed(_audit(["--repo", str(repo)]))
        total += seconds
    return total


def _audit(args: list[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "twokey",
        "audit",
        *args,
        "--format",
        "json",
        "--output",
        os.devnull,
    ]


def run(repos: int, count: int, jobs: int, runs: int) -> dict[str, float]:
    """Time every side, best of ``runs``, interleaved."""
    root = _organisation(repos, count)
    loops, ones, many = [], [], []
    parent = largest = 0
    for _ in range(runs):
        loops.append(_loop(root))
        seconds, _, _ = timed(_audit(["--repos", str(root), "--jobs", "1"]))
        ones.append(seconds)
        seconds, largest, parent = timed(_audit(["--repos", str(root), "--jobs", str(jobs)]))
        many.append(seconds)
    loop, one, best = min(loops), min(ones), min(many)
    return {"loop": loop, "one": one, "many": best, "parent": parent, "largest": largest}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 repositories x 1,000 commits")
    parser.add_argument("--repos", type=int, default=8)
    parser.add_argument("--count", type=int, default=20_000, help="commits per repository")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    repos, count = (3, 1_000) if args.quick else (args.repos, args.count)
    r = run(repos, count, args.jobs, args.runs)
    print(
        "| repositories x commits | loop of single audits | --repos --jobs 1 | "
        f"--repos --jobs {args.jobs} | parent peak RSS | largest process |"
    )
    print("|---|---|---|---|---|---|")
    print(
        f"| {repos} x {count:,} | {r['loop']:.2f} s | {r['one']:.2f} s "
        f"({r['one'] / r['loop']:.2f}x) | {r['many']:.2f} s ({r['many'] / r['loop']:.2f}x) | "
        f"{r['parent'] // 1024} MiB | {r['largest'] // 1024} MiB |"
    )


if __name__ == "__main__":
    main()
