"""What a report row needs of the engine's decision for one change."""

from __future__ import annotations

__all__ = ["Judgement", "judge"]

from dataclasses import dataclass
from datetime import datetime

from twokey.engine import evaluate_safely
from twokey.model import RefUpdateFacts, Severity
from twokey.policy import Policy


@dataclass(frozen=True)
class Judgement:
    """What a report row needs of a decision."""

    verdict: str
    break_glass: bool
    # (person id, trust, evidence id or source) of each approval the engine counted: one per
    # person and rule, so a stale approval, or a second one by the same person, is not in it
    counted: frozenset[tuple[str, str, str]]
    findings: tuple[tuple[str, str], ...]  # (code, message), info findings left out


def judge(policy: Policy, facts: RefUpdateFacts, now: datetime) -> Judgement:
    """The gate's own engine judges ``facts`` (failing closed, as every door does)."""
    decision = evaluate_safely(policy, facts, now)
    return Judgement(
        decision.verdict.value,
        decision.break_glass,
        frozenset((c.person, c.trust, c.evidence) for c in decision.counted),
        tuple(
            (f.code.value, f.message) for f in decision.findings if f.severity is not Severity.INFO
        ),
    )
