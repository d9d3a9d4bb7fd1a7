"""Audit benchmark: a generated first-parent history with trailers, against raw git log.

The floor is ``git log --first-parent`` reading the same fields in the same run; the ratio and
the audit's peak RSS (a child process) are reported.

    .venv/bin/python bench/bench_audit.py             # 200,000 commits (cached in bench/.cache)
    .venv/bin/python bench/bench_audit.py --quick     # 2,000 commits
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
PEOPLE = [("Alice Smith", "alice@example.com"), ("Bob Jones", "bob@example.com"),
          ("Carol White", "carol@example.com"), ("Dave Ops", "dave@example.com"),
          ("Erin Admin", "erin@example.com")]
FORMAT = "%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B"


def generate(path: Path, count: int) -> None:
    """A linear history of ``count`` commits via git fast-import, most with a review trailer."""
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    lines: list[bytes] = []
    for i in range(count):
        name, email = PEOPLE[i % len(PEOPLE)]
        reviewer = PEOPLE[(i + 1) % len(PEOPLE)]
        trailer = f"\n\nReviewed-by: {reviewer[0]} <{reviewer[1]}>" if i % 10 else ""
        message = f"change {i}{trailer}\n".encode()
        stamp = 1_700_000_000 + i * 60
        lines += [b"commit refs/heads/main", b"mark :%d" % (i + 1),
                  f"author {name} <{email}> {stamp} +0000".encode(),
                  f"committer {name} <{email}> {stamp} +0000".encode(),
                  b"data %d" % len(message), message]
        if i:
            lines.append(b"from :%d" % i)
        lines += [b"M 644 inline file%d.txt" % (i % 100), b"data 2", b"%d" % (i % 10), b""]
    subprocess.run(["git", "--git-dir", str(path), "fast-import", "--quiet"],
                   input=b"\n".join(lines) + b"\n", check=True)


def timed(command: list[str]) -> tuple[float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    return elapsed, max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    count = 2_000 if args.quick else 200_000
    repo = CACHE / f"history-{count}.git"
    if not repo.exists():
        CACHE.mkdir(exist_ok=True)
        generate(repo, count)
    floor, _ = timed(["git", "--git-dir", str(repo), "log", "--first-parent", "-z",
                      f"--format={FORMAT}", "refs/heads/main"])
    audit, rss = timed([sys.executable, "-m", "twokey", "audit", "--repo", str(repo),
                        "--format", "json", "--output", "/dev/null"])
    print(f"{count:,} first-parent commits: git log {floor:.2f} s, twokey audit {audit:.2f} s, "
          f"ratio {audit / floor:.2f}x; peak RSS of the audit {rss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
