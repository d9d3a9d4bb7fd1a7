"""Audit before/after in the same rounds: two ``src`` trees, interleaved, each with both floors.

Each round runs ``bench_audit.run`` once per side (the git log floor, the Python trailer
floor, then the audit with ``PYTHONPATH`` set to that side's ``src``), so load hits both sides
alike; prints min and median per side and the ratio to the Python floor, with the load average
at start and end.

    git archive main src/twokey | tar -x -C /tmp/base
    .venv/bin/python bench/bench_audit_ab.py /tmp/audit-flask.git --before /tmp/base/src --rounds 3

``--instructions`` also counts each side's instructions once (valgrind's callgrind, the audit's
own Python process, not its git children): the same on every run whatever the load, ~1 min a
side.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

from _bench_env import instructions  # the bench directory: scripts run from it
from bench_audit import run

HERE = Path(__file__).resolve().parent.parent / "src"


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def _instructions(src: str, repo: Path, ref: str, fmt: str) -> int:
    """callgrind's instruction count (Ir) of one audit's own process with ``src`` first."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = src
    audit = [sys.executable, "-m", "twokey", "audit", "--repo", str(repo), "--ref", ref]
    audit += ["--format", fmt, "--output", os.devnull]
    return instructions(audit, env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--ref", default="refs/heads/main")
    parser.add_argument("--format", default="json", choices=["text", "json", "html", "csv"])
    parser.add_argument("--before", required=True, help="the other side's src directory")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--instructions", action="store_true", help="also count each side's instructions"
    )
    args = parser.parse_args()
    sides = {"before": args.before, "after": str(HERE)}
    print("start", _uptime())
    found: dict[str, list[dict[str, float]]] = {side: [] for side in sides}
    for _ in range(args.rounds):
        for side, src in sides.items():
            os.environ["PYTHONPATH"] = src
            found[side].append(run(0, 0, 1, repo=args.repo, ref=args.ref, fmt=args.format))
    print("end", _uptime())
    for side, rows in found.items():
        audit = [r["audit"] for r in rows]
        script = min(r["script"] for r in rows)
        print(
            f"{args.repo.name} {args.format} {side}: audit min {min(audit):.2f} s, median "
            f"{statistics.median(audit):.2f} s; Python floor min {script:.2f} s; git log min "
            f"{min(r['floor'] for r in rows):.2f} s; min/min {min(audit) / script:.1f}x; peak "
            f"RSS audit {max(r['own_rss'] for r in rows) / 1024:.0f} MiB, largest "
            f"{max(r['rss'] for r in rows) / 1024:.0f} MiB; {rows[0]['count']:,} changes"
        )
    if args.instructions:
        repo, ref, fmt = args.repo, args.ref, args.format
        counted = {side: _instructions(src, repo, ref, fmt) for side, src in sides.items()}
        print(
            f"{args.repo.name} {args.format} instructions (the audit's own process): before "
            f"{counted['before'] / 1e9:.2f} G, after {counted['after'] / 1e9:.2f} G "
            f"({counted['after'] / counted['before'] - 1:+.1%})"
        )


if __name__ == "__main__":
    main()
