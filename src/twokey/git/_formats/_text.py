"""Plain text: each decision with its findings, rule, and what would satisfy it."""

from __future__ import annotations

__all__ = ["render_text"]

from twokey.git._formats._report import Report


def render_text(report: Report) -> str:
    """The engine's explanation of each decision, then a one-line summary."""
    from twokey.engine import explain  # noqa: PLC0415 - lazy: hook start-up time

    parts = [explain(j.decision) for j in report.judgements]
    denied = sum(1 for j in report.judgements if not j.decision.allowed)
    total = len(report.judgements)
    if denied:
        summary = f"twokey: {denied} of {total} ref update(s) denied; nothing was changed"
    else:
        summary = f"twokey: {total} ref update(s) allowed"
    if report.policy_origin:
        summary += f" (policy: {report.policy_origin})"
    return "\n".join([*parts, summary])
