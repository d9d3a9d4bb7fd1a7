"""The fast lane writes every row exactly as the engine's slow way does (twokey.audit._fast).

A seeded random history, made with ``git fast-import`` so every byte is chosen: several people
and aliases, review, co-author and unrelated trailers, subjects full of JSON and format
characters, legacy-encoded bytes, odd time zones (git's ``-0000`` among them), merges, and a
root commit. Each report is rendered with the fast lane and without it; they must be equal to
the byte, and the fast lane must have written most rows.
"""

from __future__ import annotations

import random
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from tests.integration.audit.support import policy_file
from twokey.audit import AuditOptions, ReportFormat, SignalStats, Totals, render, run_audit
from twokey.audit._default_policy import DefaultPolicy
from twokey.audit._fast import FastLane

PEOPLE = [
    ("Alice Smith", "alice@example.com"),
    ("Alice Smith", "alice@home.example"),
    ("Bob Jones", "bob@example.com"),
    ("Carol White", "carol@example.com"),
    ("Dave Ops", "dave@example.com"),
    ("Zoë Ünicode", "zoe@example.com"),
]
SUBJECTS = [
    "plain change",
    'quotes " and \\ backslashes',
    "braces {0} {} }{ {{x}}",
    "percent %s %(x)s and tab\there",
    "unicode: café, 日本, 🚀",
    "\u0002 control \u0003 chars",
    "mentions 0000000 and deadbeef",
]
TRAILERS = [
    "Reviewed-by: {name} <{email}>",
    "Acked-by: {name} <{email}>",
    "Approved-by: {name} <{email}>",
    "Co-authored-by: {name} <{email}>",
    "Signed-off-by: {name} <{email}>",
    "Link: https://example.com/{n}",
]
ZONES = ["+0000", "+0530", "-0700", "-0000", "+1400"]


def _message(rng: random.Random, n: int) -> bytes:
    subject = f"{rng.choice(SUBJECTS)} {n}"
    body = f"{subject}\n\nDescription {n}."
    lines = []
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        name, email = rng.choice(PEOPLE)
        lines.append(rng.choice(TRAILERS).format(name=name, email=email, n=n))
    if lines:
        body += "\n\n" + "\n".join(lines)
    data = (body + "\n").encode()
    if n % 37 == 5:  # a legacy encoding: not UTF-8
        data = data.replace(b"\n", b" caf\xe9 \xff\n", 1)
    return data


def _commit(rng: random.Random, n: int, mark: int, ref: bytes, parents: list[int]) -> bytes:
    name, email = rng.choice(PEOPLE)
    stamp = 1_700_000_000 + n * 3_600 + rng.randrange(60)
    message = _message(rng, n)
    out = [
        b"commit " + ref,
        b"mark :%d" % mark,
        f"author {name} <{email}> {stamp} {rng.choice(ZONES)}".encode(),
        f"committer {name} <{email}> {stamp} {rng.choice(ZONES)}".encode(),
        b"data %d" % len(message),
        message,
    ]
    if parents:
        out.append(b"from :%d" % parents[0])
        out += [b"merge :%d" % p for p in parents[1:]]
    out += [b"M 644 inline f%d.txt" % (n % 7), b"data 4", b"%04d" % (n % 10_000), b""]
    return b"\n".join(out) + b"\n"


def _history(path: Path, count: int, seed: int) -> Path:
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    rng = random.Random(seed)
    stream = []
    mark = main = 0
    for n in range(count):
        if main and n % 17 == 16:  # a topic commit, then its merge
            mark += 1
            stream.append(_commit(rng, n, mark, b"refs/heads/topic", [main]))
            mark += 1
            stream.append(_commit(rng, n, mark, b"refs/heads/main", [main, mark - 1]))
        else:
            mark += 1
            stream.append(_commit(rng, n, mark, b"refs/heads/main", [main] if main else []))
        main = mark
    subprocess.run(
        ["git", "-C", str(path), "fast-import", "--quiet"], input=b"".join(stream), check=True
    )
    return path


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _history(tmp_path_factory.mktemp("fast") / "repo", 400, seed=6)


@pytest.mark.parametrize("variant", ["default", "identities", "policy-with-paths"])
def test_fast_rows_are_the_slow_ways_rows(history: Path, tmp_path: Path, variant: str) -> None:
    options = {
        "default": AuditOptions(history),
        "identities": AuditOptions(history, identities={"alice@home.example": "alice@example.com"}),
        "policy-with-paths": AuditOptions(
            history, policy=policy_file(tmp_path, accept="trailer", owners=True)
        ),
    }[variant]
    fast = run_audit(options)
    slow = run_audit(options, memo=False)
    try:
        assert slow.fast_rows == 0
        assert fast.fast_rows > 100  # a good part of the 400 changes: the lane is used
        for fmt in (ReportFormat.JSON, ReportFormat.CSV, ReportFormat.TEXT):
            assert render(fast, fmt) == render(slow, fmt)
        assert fast.summary()["changes"] == 400
    finally:
        fast.close()
        slow.close()


def test_bytes_that_are_not_utf8_are_reported_not_fatal(history: Path) -> None:
    report = run_audit(AuditOptions(history))
    try:
        text = render(report, ReportFormat.JSON)
        text.encode("utf-8", "strict")  # valid UTF-8 throughout
        assert ' caf\ufffd \ufffd"' in text  # each byte that is not UTF-8: U+FFFD
        assert "unicode: café, 日本, 🚀" in text
    finally:
        report.close()


def test_progress_is_reported_as_the_walk_goes(
    history: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("twokey.audit._run.PROGRESS_EVERY", 100)
    seen: list[int] = []
    report = run_audit(AuditOptions(history), progress=seen.append)
    try:
        assert seen, "no progress reported"
        assert seen == sorted(set(seen))  # strictly increasing
        assert 100 <= seen[-1] <= report.summary()["changes"]  # first-parent commits read
    finally:
        report.close()


def test_tiny_bounds_change_nothing_but_memory(
    history: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Caches cleared and tallies flushed all the time: the report is still the slow way's."""
    for name in ("MAX_TEMPLATES", "MAX_TALLY", "MAX_CACHED"):
        monkeypatch.setattr(f"twokey.audit._fast.{name}", 2)
    fast = run_audit(AuditOptions(history))
    slow = run_audit(AuditOptions(history), memo=False)
    try:
        assert fast.fast_rows > 0
        assert render(fast, ReportFormat.JSON) == render(slow, ReportFormat.JSON)
    finally:
        fast.close()
        slow.close()


@pytest.mark.parametrize(
    ("time", "fast"),
    [
        ("2026-03-01T10:00:00+00:00", True),
        ("2026-03-01T10:00:00+05:30", True),
        ("2026-03-01T10:00:00-07:00", True),
        ("2026-03-01T10:00:00-00:00", False),  # git's "unknown zone": Python writes +00:00
        ("2026-02-30T10:00:00+00:00", False),  # no such day
        ("2026-03-01T24:00:00+00:00", False),
        ("2026-03-01T10:00:60+00:00", False),
        ("2026-03-01T10:00:00+24:00", False),
        ("2026-03-01 10:00:00+00:00", False),
        ("2026-03-01T10:00:00Z", False),
    ],
)
def test_only_times_the_slow_way_writes_back_unchanged_take_the_fast_lane(
    time: str, fast: bool
) -> None:
    policy = DefaultPolicy("refs/heads/main", None).policy
    lane = FastLane(set(), policy, Totals(), SignalStats(), "example.com/repo", "refs/heads/main")
    assert lane._iso(time) is fast
    if fast:
        assert datetime.fromisoformat(time).isoformat() == time
