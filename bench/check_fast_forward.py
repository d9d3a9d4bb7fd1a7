"""Check on real repositories: a change's ``fast_forward`` read from its own commits (ADR 0037)
is ``git merge-base --is-ancestor``'s answer.

Run: ``.venv/bin/python bench/check_fast_forward.py [--samples 200] REPO.git ...``

For random updates ``old -> new`` (``new`` a few first-parent steps after ``old``, or before
it, or on a side branch; random already-reviewed tips left out), ``GitReader.change`` is
compared with a lone ``merge-base --is-ancestor``. Prints how many were read from the log (no
``merge-base``), how many asked it, and any disagreement (exit 1).
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from twokey.git import GitReader
from twokey.git._reader import _has_parent


def _history(reader: GitReader, ref: str, most: int) -> list[str]:
    out = reader.git.text("rev-list", f"--max-count={most}", ref)
    return out.split()[::-1]


def _all_commits(reader: GitReader, most: int) -> list[str]:
    return reader.git.text("rev-list", f"--max-count={most}", "--all").split()


def check(path: Path, samples: int, rng: random.Random) -> tuple[int, int, int]:
    reader = GitReader(path)
    head = reader.git.text("symbolic-ref", "HEAD")
    line = _history(reader, head, 3000)
    others = _all_commits(reader, 20000)
    shortcut = asked = wrong = 0
    for _ in range(samples):
        at = rng.randrange(len(line) - 60)
        old = line[at]
        ahead, behind = line[at + rng.randrange(1, 50)], line[max(0, at - 5)]
        new = rng.choice([ahead, behind, rng.choice(others)])
        exclude = rng.sample(others, rng.choice([0, 0, 1, 3]))
        change = reader.change("refs/heads/main", old, new, repository="r", exclude=exclude)
        truth = reader.git.call(["merge-base", "--is-ancestor", old, new], ok=(0, 1)).code == 0
        if _has_parent(change.commits, old):
            shortcut += 1
        else:
            asked += 1
        if change.fast_forward != truth:
            wrong += 1
            print(f"{path.name}: {old} -> {new} (exclude {exclude}): {change.fast_forward}")
    return shortcut, asked, wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repos", nargs="+", type=Path)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=37)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    failed = False
    for repo in args.repos:
        shortcut, asked, wrong = check(repo, args.samples, rng)
        print(f"{repo.name}: {shortcut} read from the log, {asked} asked merge-base, {wrong} wrong")
        failed |= wrong > 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
