"""Sentences every audit renderer shares (plain text and the rich terminal report alike).

Kept apart from ``_render`` so that ``_text`` (the rich report, which ``_render`` loads only
for a terminal) needs nothing of ``_render``: no import cycle between them.
"""

from __future__ import annotations

__all__ = [
    "exception_text",
    "gate_text",
    "is_open",
    "open_exceptions",
    "summary_lines",
    "trust_split",
]

from collections.abc import Iterator
from typing import Any

from twokey._text import printable
from twokey.audit._report import AuditReport


def exception_text(exception: dict[str, Any]) -> str:
    """One break-glass exception (open, or reviewed after the fact) as a line of text."""
    review = exception["review"]
    state = "OPEN EXCEPTION" if review is None else "REVIEWED EXCEPTION"
    if exception.get("landed") is False:
        state = "NEVER LANDED (allowed, then not made by git; no open exception)"
    where = (
        f"push of {exception['commit'][:10]} to {exception['ref']}"
        if exception["kind"] == "change"
        else f"deploy of {exception['commit'][:10]} to {exception['environment']}"
    )
    closed = (
        "not reviewed after the fact"
        if review is None
        else f"reviewed by {review['reviewer']}: {review['verdict']}"
    )
    return printable(
        f"{state}: break-glass {where} by {exception['actor']} at {exception['time'][:16]}: "
        f"{exception['reason']} ({closed}; ledger entry {exception['entry']})"
    )


def trust_split(summary: dict[str, Any]) -> str:
    """What the reviewed number rests on: ``signed 2, forge 0, trailer 8 (claims)``."""
    split = summary.get("reviewed_by_trust") or {}
    text = ", ".join(f"{trust} {split.get(trust, 0)}" for trust in ("signed", "forge", "trailer"))
    return text + (" (unverified claims)" if split.get("trailer") else "")


def open_exceptions(report: AuditReport) -> int:
    """Break-glass exceptions nobody has reviewed yet."""
    return sum(1 for e in report.exceptions if is_open(e))


def is_open(exception: dict[str, Any]) -> bool:
    """Not reviewed after the fact, and not known never to have landed."""
    return not exception["reviewed"] and exception.get("landed") is not False


def gate_text(report: AuditReport) -> str:
    """``, gate disagreements 4`` when a ledger gave the gate's verdicts ("" otherwise)."""
    count = report.summary()["gate_disagreements"]
    if not count and not any(source.startswith("ledger ") for source in report.sources):
        return ""
    return f", gate disagreements {count} (the gate's recorded verdict differs from the audit's)"


def summary_lines(report: AuditReport, every_change: bool) -> Iterator[str]:
    """What the text report says before its rows: which policy, what was found, what is left
    out (issue 13: an 18,000-line list of allowed changes hid the few that matter)."""
    s = report.summary()
    yield f"policy: {report.policy['source']} ({report.policy['digest']})"
    by_code = sorted(s["violations_by_finding"].items(), key=lambda kv: (-kv[1], kv[0]))
    if by_code:
        yield "violations by finding: " + ", ".join(f"{code} {n}" for code, n in by_code)
    if not every_change:
        glass, violations, rest = report.spool.counts
        yield (
            f"listed below: {glass} break-glass change(s) and {violations} violation(s); "
            f"{rest} allowed change(s) not listed (--all lists every change; JSON, CSV and "
            "HTML hold them all)"
        )
