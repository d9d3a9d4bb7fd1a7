"""Templates filled in for other people (twokey.audit._recast) give the engine's rows exactly.

A seeded random history with many people, made with ``git fast-import``: people whose ids and
emails are also words of a row (``deny``, ``trailer``, ``refs``, ``1``, ``a``, ``everyone``
...), ids that hold each other (``bob``, ``bob-2``), upper-case and ``+tag`` emails (never
recast), the same emails under other names, self-reviews, maintainers committing others' work,
co-authors. Each report is rendered with the fast lane and without it (every change judged by
the engine); they must be equal to the byte, and many shapes must have been filled in from
their cast's.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from tests.integration.audit.support import policy_file
from twokey.audit import AuditOptions, ReportFormat, render, run_audit

WORDS = [
    "deny", "allow", "trailer", "refs", "heads", "main", "counted", "who", "a", "1", "e",
    "everyone", "reviewed-by", "null", "true", "approval", "committer", "the", "of", "by",
    "squash-or-direct", "source", "message", "0", "s",
]  # fmt: skip
PEOPLE = [(f"Person {w.title()}", f"{w}@example.com") for w in WORDS]
PEOPLE += [(f"Dev {n}", f"dev{n}@corp.example") for n in range(12)]
PEOPLE += [
    ("Bob One", "bob@one.example"),
    ("Bob Two", "bob@two.example"),  # id bob-2: holds bob
    ("Mixed Case", "Mixed.Case@Example.com"),  # upper case: not recast
    ("Tagged", "dev1+ci@corp.example"),  # dev1's +tag: read as dev1 by the engine
    ("Zoë Ünicode", "zoë@example.com"),  # not plain in JSON: not recast
]
MAINTAINERS = PEOPLE[-12:-6]
TRAILERS = ["Reviewed-by", "Acked-by", "Approved-by", "Co-authored-by", "Signed-off-by"]


def _message(rng: random.Random, n: int, author: tuple[str, str]) -> bytes:
    lines = []
    for _ in range(rng.choice([0, 1, 1, 1, 2, 2, 3])):
        name, email = author if rng.random() < 0.1 else rng.choice(PEOPLE)  # self-review
        lines.append(f"{rng.choice(TRAILERS)}: {name} <{email}>")
    body = f"change {n} by {author[0]}\n\nWhat it does."
    if lines:
        body += "\n\n" + "\n".join(lines)
    return (body + "\n").encode()


def _renamed(rng: random.Random, person: tuple[str, str]) -> tuple[str, str]:
    """Now and then the same email under another name (a shape the engine reads the same)."""
    return (f"{person[0]} Jr", person[1]) if rng.random() < 0.2 else person


def _commit(rng: random.Random, n: int, parent: int) -> bytes:
    author = _renamed(rng, rng.choice(PEOPLE))
    committer = author if rng.random() < 0.5 else _renamed(rng, rng.choice(MAINTAINERS))
    stamp = 1_700_000_000 + n * 3_600
    message = _message(rng, n, author)
    out = [
        b"commit refs/heads/main",
        b"mark :%d" % (n + 1),
        f"author {author[0]} <{author[1]}> {stamp} +0100".encode(),
        f"committer {committer[0]} <{committer[1]}> {stamp} +0100".encode(),
        b"data %d" % len(message),
        message,
    ]
    if parent:
        out.append(b"from :%d" % parent)
    out += [b"M 644 inline f%d.txt" % (n % 5), b"data 5", b"%05d" % n, b""]
    return b"\n".join(out) + b"\n"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("recast") / "repo"
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    rng = random.Random(13)
    stream = b"".join(_commit(rng, n, n) for n in range(900))
    subprocess.run(["git", "-C", str(path), "fast-import", "--quiet"], input=stream, check=True)
    return path


@pytest.mark.parametrize("variant", ["default", "identities"])
def test_recast_rows_are_the_engines_rows(history: Path, variant: str) -> None:
    same = {"bob@two.example": "bob@one.example", "dev1+ci@corp.example": "dev1@corp.example"}
    options = AuditOptions(history, identities=same if variant == "identities" else None)
    fast = run_audit(options)
    slow = run_audit(options, memo=False)
    try:
        assert fast.recast_shapes > 100  # most new shapes came from their cast's template
        assert slow.recast_shapes == 0
        for fmt in (ReportFormat.JSON, ReportFormat.CSV, ReportFormat.TEXT, ReportFormat.HTML):
            assert render(fast, fmt) == render(slow, fmt)
        assert fast.summary()["changes"] == 900
    finally:
        fast.close()
        slow.close()


def test_a_policy_file_is_never_recast(history: Path, tmp_path: Path) -> None:
    """People in a written policy differ (groups, owners, keys): each shape is judged."""
    options = AuditOptions(history, policy=policy_file(tmp_path, accept="trailer"))
    fast = run_audit(options)
    slow = run_audit(options, memo=False)
    try:
        assert fast.recast_shapes == 0
        assert fast.fast_rows > 0
        assert render(fast, ReportFormat.JSON) == render(slow, ReportFormat.JSON)
    finally:
        fast.close()
        slow.close()


def test_tiny_bounds_still_give_the_engines_rows(
    history: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Templates and casts forgotten all the time: the report is still the slow way's."""
    monkeypatch.setattr("twokey.audit._fast.MAX_TEMPLATES", 3)
    fast = run_audit(AuditOptions(history))
    slow = run_audit(AuditOptions(history), memo=False)
    try:
        assert render(fast, ReportFormat.JSON) == render(slow, ReportFormat.JSON)
    finally:
        fast.close()
        slow.close()
