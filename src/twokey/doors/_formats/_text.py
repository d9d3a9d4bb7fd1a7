"""Plain text: each decision with its findings, the rule, and what would satisfy it."""

from __future__ import annotations

__all__ = ["render_text"]

from twokey._text import printable
from twokey.doors._formats._report import Report
from twokey.doors._gate import Judgement
from twokey.model import Decision, Finding, Severity

_MARK = {Severity.DENY: "✗", Severity.WARN: "!", Severity.INFO: "·"}


def render_text(report: Report) -> str:
    """One block per decision, then a one-line summary (``--explain`` shows who counted)."""
    # New evidence refs are allowed by construction; one line says how many arrived.
    quiet = [j for j in report.judgements if j.update.is_evidence and j.decision.allowed]
    parts = _blocks([j for j in report.judgements if j not in quiet])
    if quiet:
        parts.append(f"ALLOW: {len(quiet)} new evidence ref(s) under refs/twokey/")
    denied = sum(1 for j in report.judgements if not j.decision.allowed)
    total = len(report.judgements)
    if denied:
        summary = f"twokey: {denied} of {total} ref update(s) denied; nothing was changed"
    else:
        summary = f"twokey: {total} ref update(s) allowed"
    if report.policy_origin:
        summary += f" (policy: {report.policy_origin})"
    return "\n".join([*parts, summary])


def _blocks(judgements: list[Judgement]) -> list[str]:
    """One block per decision, except that evidence refs denied for the same reasons (a push
    over the evidence limits, ADR 0041) share one block naming how many they are."""
    alike: dict[tuple[Finding, ...], list[Judgement]] = {}
    for j in judgements:
        if j.update.is_evidence and not j.decision.allowed:
            alike.setdefault(j.decision.findings, []).append(j)
    parts = []
    for j in judgements:
        group = alike.get(j.decision.findings, []) if j.update.is_evidence else []
        if len(group) > 1 and j is not group[0]:
            continue
        parts.append(_decision(j.decision, len(group)))
    return parts


def _decision(decision: Decision, alike: int = 1) -> str:
    subject = decision.subject
    if alike > 1:
        subject = f"{subject} and {alike - 1} more ref(s) under refs/twokey/, for the same reason"
    lines = [f"{decision.verdict.value.upper()}: {subject}"]
    if decision.break_glass:
        lines.append("  BREAK-GLASS: allowed as an open exception until someone else reviews it")
    for f in decision.findings:
        lines.append(f"  {_MARK[f.severity]} {f.code.value}: {f.message}")
        if f.severity is not Severity.INFO:
            if f.rule is not None:
                lines.append(f"      rule: {f.rule}")
            if f.satisfy:
                lines.append(f"      to satisfy: {f.satisfy}")
    return "\n".join(printable(line) for line in lines)  # pushed text never drives a terminal
