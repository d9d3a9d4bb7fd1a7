"""Audit benchmark: a generated first-parent history with trailers, against raw git log.

The floor is ``git log --first-parent -z`` reading the same fields (id, tree, parents, author,
committer, message) in the same run; the audit is ``twokey audit --format json --output
/dev/null`` in a child process. Both are timed wall-clock, best of ``--runs``; the ratio and
peak RSS (the audit process's own, and the largest process including its ``git log``) are
printed as a Markdown table row.

    .venv/bin/python bench/bench_audit.py                  # 200,000 commits (bench/.cache)
    .venv/bin/python bench/bench_audit.py --quick          # 2,000 commits
    .venv/bin/python bench/bench_audit.py --count 20000 --merge-every 2   # merge-heavy

The generated repository is cached under ``bench/.cache/`` (gitignored) by its parameters.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
PEOPLE = [
    ("Alice Smith", "alice@example.com"),
    ("Bob Jones", "bob@example.com"),
    ("Carol White", "carol@example.com"),
    ("Dave Ops", "dave@example.com"),
    ("Erin Admin", "erin@example.com"),
    ("Alice Smith", "alice@home.example"),  # an alias, for `twokey audit identities`
]
FORMAT = "%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B"
TRAILERS = ("Reviewed-by", "Acked-by", "Approved-by")


def _commit(i: int, mark: int, parent: int | None, branch: bytes) -> list[bytes]:
    name, email = PEOPLE[i % len(PEOPLE)]
    reviewer = PEOPLE[(i + 1 + i // 7) % 5]
    trailer = f"\n\n{TRAILERS[i % 3]}: {reviewer[0]} <{reviewer[1]}>" if i % 10 else ""
    message = f"change {i}\n\nSome description of change {i}.{trailer}\n".encode()
    stamp = 1_700_000_000 + i * 60
    lines = [
        b"commit " + branch,
        b"mark :%d" % mark,
        f"author {name} <{email}> {stamp} +0000".encode(),
        f"committer {name} <{email}> {stamp} +0000".encode(),
        b"data %d" % len(message),
        message,
    ]
    if parent:
        lines.append(b"from :%d" % parent)
    lines += [b"M 644 inline file%d.txt" % (i % 100), b"data 8", b"%08d" % i, b""]
    return lines


def generate(path: Path, count: int, merge_every: int) -> None:
    """``count`` first-parent commits via git fast-import; every ``merge_every``-th a merge."""
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    proc = subprocess.Popen(
        ["git", "--git-dir", str(path), "fast-import", "--quiet"], stdin=subprocess.PIPE
    )
    assert proc.stdin is not None
    mark, main = 0, 0
    for i in range(count):
        if merge_every and i % merge_every == merge_every - 1 and main:
            mark += 1  # a topic commit on top of main, then the merge of it into main
            topic = mark
            proc.stdin.write(b"\n".join(_commit(i, topic, main, b"refs/heads/topic")) + b"\n")
            mark += 1
            lines = _commit(i, mark, main, b"refs/heads/main")
            lines.insert(lines.index(b"from :%d" % main) + 1, b"merge :%d" % topic)
            lines[5] = f"Merge topic {i}\n\nReviewed-by: Bob Jones <bob@example.com>\n".encode()
            lines[4] = b"data %d" % len(lines[5])
        else:
            mark += 1
            lines = _commit(i, mark, main or None, b"refs/heads/main")
        proc.stdin.write(b"\n".join(lines) + b"\n")
        main = mark
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")


_MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
own = 0
while proc.poll() is None:  # the child's own high-water mark, without its git children
    try:
        with open(f"/proc/{proc.pid}/status") as status:
            own = max([own] + [int(l.split()[1]) for l in status if l.startswith("VmHWM")])
    except (FileNotFoundError, ProcessLookupError):
        pass
    time.sleep(0.05)
if proc.returncode:
    sys.exit(proc.returncode)
largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(time.perf_counter() - start, largest, own)
"""


def timed(command: list[str]) -> tuple[float, int, int]:
    """Wall seconds, the largest process's peak RSS and the command's own (KiB).

    Measured by a fresh parent: RUSAGE_CHILDREN is the largest descendant that process ever
    waited for (the audit's ``git log`` included), so it must have no other child. The
    command's own high-water mark is polled from /proc (Linux).
    """
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command], check=True, capture_output=True, text=True
    ).stdout.split()
    return float(out[0]), int(out[1]), int(out[2])


def policy_file() -> Path:
    """A policy naming the generated people (alice's two emails one person), trailers accepted.

    With a policy the audit reads each commit's paths (rules may look at them), so the floor
    reads them too (``--name-only``).
    """
    path = CACHE / "policy.yml"
    people = "".join(
        f"  {name.split()[0].lower()}: {{emails: [{email}]}}\n"
        for name, email in PEOPLE
        if not email.endswith("home.example")
    ).replace("alice@example.com", "alice@example.com, alice@home.example")
    path.write_text(
        f"version: 1\npeople:\n{people}"
        "groups:\n  reviewers: [alice, bob, carol, dave, erin]\n"
        "branches:\n  main: {approvals: 1, approvers: [reviewers], accept: [trailer]}\n"
        "policy_changes: {approvals: 1, approvers: [reviewers]}\n"
    )
    return path


def run(count: int, merge_every: int, runs: int, policy: bool = False) -> dict[str, float]:
    """Generate (or reuse) the repository and time both sides, best of ``runs``."""
    repo = CACHE / f"history-{count}{f'-m{merge_every}' if merge_every else ''}.git"
    if not repo.exists():
        CACHE.mkdir(exist_ok=True)
        generate(repo, count, merge_every)
    git_log = ["git", "--git-dir", str(repo), "log", "--first-parent", "-z"]
    git_log += [f"--format={FORMAT}", "refs/heads/main"]
    audit = [sys.executable, "-m", "twokey", "audit", "--repo", str(repo)]
    audit += ["--format", "json", "--output", os.devnull]
    if policy:
        CACHE.mkdir(exist_ok=True)
        git_log[5:5] = ["--name-only", "--no-renames"]
        audit += ["--policy", str(policy_file())]
    floors, audits = [], []
    floor_rss = largest = own = 0
    for _ in range(runs):  # interleaved: both see the same machine load
        seconds, floor_rss, _ = timed(git_log)
        floors.append(seconds)
        seconds, largest, own = timed(audit)
        audits.append(seconds)
    floor, best = min(floors), min(audits)
    return {
        "count": count,
        "floor": floor,
        "audit": best,
        "ratio": best / floor,
        "floor_rss": floor_rss,
        "rss": largest,
        "own_rss": own,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 commits")
    parser.add_argument("--count", type=int, help="first-parent commits (default 200,000)")
    parser.add_argument("--merge-every", type=int, default=0, help="every Nth change a merge")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--policy", action="store_true", help="audit with a policy file (paths read by both)"
    )
    args = parser.parse_args()
    count = args.count or (2_000 if args.quick else 200_000)
    r = run(count, args.merge_every, args.runs, args.policy)
    per = (r["audit"] - r["floor"]) / r["count"] * 1e6
    merges = f", a merge every {args.merge_every}" if args.merge_every else ""
    merges += ", policy file (paths)" if args.policy else ""
    print(
        "| commits | git log (floor) | twokey audit | ratio | µs/change over floor "
        "| peak RSS: audit process | largest (its git log) | git log floor |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {r['count']:,}{merges} | {r['floor']:.2f} s | {r['audit']:.2f} s | "
        f"{r['ratio']:.1f}x | {per:.0f} | {r['own_rss'] / 1024:.0f} MiB | "
        f"{r['rss'] / 1024:.0f} MiB | {r['floor_rss'] / 1024:.0f} MiB |"
    )


if __name__ == "__main__":
    main()
