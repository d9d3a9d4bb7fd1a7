"""One pipeline for every door: gather facts, decide with the engine, record, then answer.

A door is what turns a request (a push, a CI job, a deploy job, a gateway call) into the
engine's facts. Everything after ``gather`` is the same for every door, so it lives here once:

1. ``door.gather(request)`` reads git, evidence and the trusted policy into the engine's facts;
2. ``evaluate_safely`` decides (any exception is a deny, invariant 8);
3. ``record`` appends the door's ledger entries before the decision takes effect (invariant 9);
   a ledger that cannot be written turns every decision into a deny (``INTERNAL_ERROR``);
4. ``answer`` renders the decision and ``exit_code`` gives the documented exit code
   (0 allow, 1 deny, 3 internal; usage errors are raised as ``UsageError`` and exit 2).
"""

from __future__ import annotations

__all__ = [
    "Door",
    "Gathered",
    "answer",
    "decide",
    "door_deny",
    "exit_code",
    "record",
    "recorded",
    "recorded_at",
]


import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from twokey.doors._record import record  # one writer: appends, then signs a checkpoint (ADR 0015)
from twokey.doors._verdicts import door_deny  # one deny for what the engine cannot judge
from twokey.errors import ExitCode, TwokeyError
from twokey.model import (
    Decision,
    DeployFacts,
    FindingCode,
    RefUpdateFacts,
)

if TYPE_CHECKING:
    from twokey.ledger import Entry
    from twokey.policy import Policy

R_contra = TypeVar("R_contra", contravariant=True)


@dataclass(frozen=True)
class Gathered:
    """What a door gathered: the trusted policy, the engine's facts, where the policy is from."""

    policy: Policy
    facts: RefUpdateFacts | DeployFacts
    policy_origin: str
    extra: Mapping[str, Any] = field(default_factory=dict)  # door-specific ledger fields


class Door(Protocol[R_contra]):
    """A door: how one kind of request becomes facts, and which ledger entries record it."""

    def gather(self, request: R_contra) -> Gathered:
        """The facts for ``request`` (raises ``UsageError`` for bad input)."""
        ...

    def entries(
        self, request: R_contra, gathered: Gathered, decision: Decision, now: datetime
    ) -> list[Entry]:
        """The ledger entries that record ``decision`` (invariant 9)."""
        ...


def decide(
    door: Door[R_contra], request: R_contra, now: datetime, ledger: str, key: str | None = None
) -> Decision:
    """Steps 1-3 for one request: gather, evaluate, record (when ``ledger`` names one).

    ``key`` signs a checkpoint after the batch (None: ``$TWOKEY_LEDGER_SIGNING_KEY``).
    """
    from twokey.engine import evaluate_safely  # noqa: PLC0415 - lazy: door start-up time

    gathered = door.gather(request)
    decision = evaluate_safely(gathered.policy, gathered.facts, now)
    # Without a ledger nothing is recorded: the records (and the ledger package) are not built.
    entries = door.entries(request, gathered, decision, now) if ledger else []
    return recorded([decision], entries, ledger, key)[0]


def recorded(
    decisions: Sequence[Decision], entries: Sequence[Entry], ledger: str, key: str | None = None
) -> list[Decision]:
    """``decisions``, once ``entries`` are in the ledger; every one a deny if they cannot be.

    Without a ledger nothing is recorded (advice only; the gate that records is configured).
    """
    return recorded_at(decisions, entries, ledger, key)[0]


def recorded_at(
    decisions: Sequence[Decision],
    entries: Sequence[Entry],
    ledger: str,
    key: str | None = None,
    *,
    hint: str = "fix the ledger (twokey ledger verify), or run without --ledger",
) -> tuple[list[Decision], tuple[int, ...]]:
    """``recorded``, with the ledger indices of the batch (the hook reports them).

    ``hint`` is what the door tells its user when the ledger cannot be written (a pusher cannot
    run without --ledger); the error's own hint (a misconfigured signing key) comes first.
    """
    if not ledger:
        return list(decisions), ()
    try:
        indices = record(ledger, entries, key=key)
    except TwokeyError as exc:  # fail closed: a decision that is not recorded does not stand
        return [
            door_deny(
                d.subject,
                FindingCode.INTERNAL_ERROR,
                exc.message,
                exc.hint or hint,
                d.policy_digest,
            )
            for d in decisions
        ], ()
    return list(decisions), tuple(indices)


def exit_code(decisions: Sequence[Decision]) -> ExitCode:
    """3 when a door could not decide (``INTERNAL_ERROR``), else 1 on any deny, else 0."""
    if any(f.code is FindingCode.INTERNAL_ERROR for d in decisions for f in d.findings):
        return ExitCode.INTERNAL
    return ExitCode.ALLOW if all(d.allowed for d in decisions) else ExitCode.DENY


def answer(decisions: Sequence[Decision], fmt: str, policy_origin: str = "") -> str:
    """The decisions as ``text`` (the engine's explanation) or ``json``."""
    from twokey.engine import decision_json, explain  # noqa: PLC0415

    if fmt == "json":
        data = {
            "allowed": all(d.allowed for d in decisions),
            "policy": policy_origin,
            "decisions": [json.loads(decision_json(d)) for d in decisions],
        }
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
    text = "\n\n".join(explain(d) for d in decisions)
    return f"{text}\n(policy: {policy_origin})" if policy_origin else text
