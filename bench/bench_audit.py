"""Audit benchmark: a generated (or a real) first-parent history, against two floors.

The floors, in the same run: ``git log --first-parent -z`` reading the same fields (id, tree,
parents, author, committer, message), and a plain Python script that reads that ``git log``
and decides "reviewed or not" per change from its trailers (issue 13's floor). The audit is
``twokey audit --format json --output /dev/null`` in a child process. All are timed
wall-clock, best of ``--runs``; the ratios and peak RSS (the audit process's own, and the
largest process including its ``git log``) are printed as a Markdown table row.

    .venv/bin/python bench/bench_audit.py                  # 200,000 commits (bench/.cache)
    .venv/bin/python bench/bench_audit.py --quick          # 2,000 commits
    .venv/bin/python bench/bench_audit.py --count 20000 --merge-every 2   # merge-heavy
    .venv/bin/python bench/bench_audit.py --count 20000 --people 500      # 500 authors
    .venv/bin/python bench/bench_audit.py --repo /tmp/tools.git --ref refs/heads/master

The generated repository is cached under ``bench/.cache/`` (gitignored) by its parameters.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from functools import cache
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


@cache
def _people(count: int) -> list[tuple[str, str]]:
    """The generated identities: the six above, then ``count - 6`` more distinct people."""
    more = [(f"Person {n}", f"person{n}@corp{n % 7}.example") for n in range(count - len(PEOPLE))]
    return PEOPLE + more


def _commit(
    i: int, mark: int, parent: int | None, branch: bytes, people: int = len(PEOPLE)
) -> list[bytes]:
    everyone = _people(people) if people > len(PEOPLE) else PEOPLE
    name, email = everyone[i % len(everyone)]
    reviewer = everyone[(i + 1 + i // 7) % (len(everyone) - 1)]
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


def generate(path: Path, count: int, merge_every: int, people: int = len(PEOPLE)) -> None:
    """``count`` first-parent commits via git fast-import; every ``merge_every``-th a merge;
    authors and reviewers from ``people`` distinct identities."""
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
            lines = _commit(i, mark, main or None, b"refs/heads/main", people)
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


# The floor of issue 13: the same git log range, "reviewed or not" per change from its
# trailers (a review trailer naming an email other than the author's), and nothing else.
FLOOR_SCRIPT = r"""
import re, subprocess, sys
TRAILER = re.compile(r"^(?:reviewed-by|acked-by|approved-by):.*<([^>]*)>", re.I | re.M)
log = subprocess.run(sys.argv[1:], check=True, capture_output=True).stdout
fields = log.decode("utf-8", "replace").split("\0")
changes = reviewed = 0
for i in range(0, len(fields) - 9, 10):  # ten fields a record (-z ends each with a NUL)
    changes += 1
    author = fields[i + 4].lower()
    last = fields[i + 9].strip().rsplit("\n\n", 1)[-1]
    if any(e.lower() != author for e in TRAILER.findall(last)):
        reviewed += 1
print(changes, reviewed)
"""


def _repository(count: int, merge_every: int, people: int) -> Path:
    """The generated repository for these parameters (made once, cached)."""
    name = f"history-{count}{f'-m{merge_every}' if merge_every else ''}"
    name += f"-p{people}" if people != len(PEOPLE) else ""
    repo = CACHE / f"{name}.git"
    if not repo.exists():
        CACHE.mkdir(exist_ok=True)
        generate(repo, count, merge_every, people)
    return repo


def run(
    count: int,
    merge_every: int,
    runs: int,
    policy: bool = False,
    *,
    people: int = len(PEOPLE),
    repo: Path | None = None,
    ref: str = "refs/heads/main",
    fmt: str = "json",
) -> dict[str, float]:
    """Generate (or reuse, or take ``repo``) and time every side, best of ``runs``."""
    repo = repo or _repository(count, merge_every, people)
    git_log = ["git", "--git-dir", str(repo), "log", "--first-parent", "-z"]
    git_log += [f"--format={FORMAT}", ref]
    python_floor = [sys.executable, "-c", FLOOR_SCRIPT, *git_log]
    audit = [sys.executable, "-m", "twokey", "audit", "--repo", str(repo), "--ref", ref]
    audit += ["--format", fmt, "--output", os.devnull]
    if policy:
        CACHE.mkdir(exist_ok=True)
        git_log[5:5] = ["--name-only", "--no-renames"]
        audit += ["--policy", str(policy_file())]
    floors, scripts, audits = [], [], []
    floor_rss = largest = own = script_rss = 0
    for _ in range(runs):  # interleaved: every side sees the same machine load
        seconds, floor_rss, _ = timed(git_log)
        floors.append(seconds)
        seconds, _, script_rss = timed(python_floor)
        scripts.append(seconds)
        seconds, largest, own = timed(audit)
        audits.append(seconds)
    changes = int(subprocess.run(python_floor, check=True, capture_output=True).stdout.split()[0])
    floor, script, best = min(floors), min(scripts), min(audits)
    return {
        "count": changes,
        "floor": floor,
        "script": script,
        "audit": best,
        "ratio": best / floor,
        "script_ratio": best / script,
        "floor_rss": floor_rss,
        "script_rss": script_rss,
        "rss": largest,
        "own_rss": own,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 commits")
    parser.add_argument("--count", type=int, help="first-parent commits (default 200,000)")
    parser.add_argument("--merge-every", type=int, default=0, help="every Nth change a merge")
    parser.add_argument("--people", type=int, default=len(PEOPLE), help="distinct authors")
    parser.add_argument("--repo", type=Path, help="a real repository instead of a generated one")
    parser.add_argument("--ref", default="refs/heads/main", help="the audited ref (--repo)")
    parser.add_argument("--format", default="json", choices=["text", "json", "html", "csv"])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--policy", action="store_true", help="audit with a policy file (paths read by both)"
    )
    args = parser.parse_args()
    count = args.count or (2_000 if args.quick else 200_000)
    r = run(
        count,
        args.merge_every,
        args.runs,
        args.policy,
        people=args.people,
        repo=args.repo,
        ref=args.ref,
        fmt=args.format,
    )
    per = (r["audit"] - r["floor"]) / r["count"] * 1e6
    what = f", {args.repo.name} {args.ref}" if args.repo else ""
    what += f", {args.people} people" if args.people != len(PEOPLE) and not args.repo else ""
    what += f", a merge every {args.merge_every}" if args.merge_every else ""
    what += ", policy file (paths)" if args.policy else ""
    what += f", {args.format}" if args.format != "json" else ""
    print(
        "| commits | git log (floor) | twokey audit | ratio | µs/change over floor "
        "| peak RSS: audit process | largest (its git log) | git log floor "
        "| Python trailer floor | ratio to it | its RSS |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {r['count']:,}{what} | {r['floor']:.2f} s | {r['audit']:.2f} s | "
        f"{r['ratio']:.1f}x | {per:.0f} | {r['own_rss'] / 1024:.0f} MiB | "
        f"{r['rss'] / 1024:.0f} MiB | {r['floor_rss'] / 1024:.0f} MiB | "
        f"{r['script']:.2f} s | {r['script_ratio']:.1f}x | {r['script_rss'] / 1024:.0f} MiB |"
    )


if __name__ == "__main__":
    main()
