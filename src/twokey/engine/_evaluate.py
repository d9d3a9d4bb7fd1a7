"""The one decision function every door calls."""

from __future__ import annotations

__all__ = ["evaluate", "evaluate_safely"]

from datetime import datetime

from twokey.engine._deploy import evaluate_deploy, short_digest
from twokey.engine._people import short
from twokey.engine._refs import evaluate_ref_update
from twokey.engine._tally import Tally
from twokey.model import (
    BreakGlass,
    Decision,
    DeployFacts,
    Finding,
    FindingCode,
    RefUpdateFacts,
    RuleRef,
    Severity,
    Verdict,
)
from twokey.policy import Policy

# Break-glass never excuses these: they are not about too few people (invariants 1 and 8).
_UNBREAKABLE = frozenset(
    {
        FindingCode.FORCE_PUSH,
        FindingCode.REF_DELETION,
        FindingCode.MALFORMED_INPUT,
        FindingCode.INTERNAL_ERROR,
        FindingCode.UNKNOWN_ENVIRONMENT,
    }
)
_CODE_ORDER = {code: i for i, code in enumerate(FindingCode)}
_SEVERITY_ORDER = {Severity.DENY: 0, Severity.WARN: 1, Severity.INFO: 2}


def evaluate(policy: Policy, facts: RefUpdateFacts | DeployFacts, now: datetime) -> Decision:
    """Decide a ref update or a deploy request. Pure and deterministic.

    Args:
        policy: the trusted policy (for a ref update, the one on the protected branch).
        facts: what the door gathered; evidence order never matters.
        now: the time of the decision (timezone-aware); the engine never reads a clock.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if isinstance(facts, RefUpdateFacts):
        tally, rule = evaluate_ref_update(policy, facts)
        subject = f"{facts.change.ref} {short(facts.change.old)}..{short(facts.change.new)}"
        glass = facts.break_glass
        allowed_glass = rule.break_glass if rule is not None else frozenset()
        where = rule.rule if rule is not None else None
    else:
        tally, env = evaluate_deploy(policy, facts, now)
        request = facts.request
        subject = f"deploy {short_digest(request.artifact)} to {request.environment}"
        glass = request.break_glass
        allowed_glass = env.break_glass if env is not None else frozenset()
        where = env.rule if env is not None else None
    broken = _break_glass(policy, tally, glass, allowed_glass, where)
    findings = tuple(sorted(tally.findings, key=_finding_key))
    verdict = Verdict.DENY if any(f.severity is Severity.DENY for f in findings) else Verdict.ALLOW
    return Decision(
        verdict,
        subject,
        findings,
        tuple(sorted(tally.counted, key=lambda c: (c.rule, c.person, c.evidence))),
        tuple(sorted(set(tally.excluded), key=lambda e: (e.rule, e.who, e.reason))),
        policy.digest,
        broken,
    )


def _finding_key(finding: Finding) -> tuple[int, int, str, tuple[str, ...]]:
    return (
        _SEVERITY_ORDER[finding.severity],
        _CODE_ORDER[finding.code],
        finding.message,
        finding.people,
    )


def _break_glass(
    policy: Policy,
    tally: Tally,
    glass: BreakGlass | None,
    allowed: frozenset[str],
    where: RuleRef | None,
) -> bool:
    """Apply break-glass (invariant 6): allowed people, a reason, marked, open until reviewed."""
    if glass is None:
        return False
    actor = policy.resolve(glass.actor)
    who = actor.id if actor is not None else str(glass.actor)
    if actor is None or who not in allowed or not glass.reason.strip():
        why = "gave no reason" if actor is not None and who in allowed else "is not allowed to"
        tally.findings.append(
            Finding(
                FindingCode.BREAK_GLASS_DENIED,
                Severity.DENY,
                f"break-glass refused: {who} {why}",
                f"break-glass by {', '.join(sorted(allowed)) or 'nobody (none configured)'} "
                "with a reason",
                where,
                (who,),
            )
        )
        return False
    tally.findings = [
        f
        if f.severity is not Severity.DENY or f.code in _UNBREAKABLE
        else Finding(
            f.code,
            Severity.WARN,
            f"{f.message} [overridden by break-glass]",
            f.satisfy,
            f.rule,
            f.people,
            f.commits,
        )
        for f in tally.findings
    ]
    tally.findings.append(
        Finding(
            FindingCode.BREAK_GLASS,
            Severity.WARN,
            f"break-glass by {who}: {glass.reason.strip()}",
            "an open exception until someone other than the actor reviews it",
            where,
            (who,),
        )
    )
    return True


def evaluate_safely(policy: Policy, facts: RefUpdateFacts | DeployFacts, now: datetime) -> Decision:
    """:func:`evaluate`, with any internal error turned into a deny (fail closed)."""
    try:
        return evaluate(policy, facts, now)
    except Exception as exc:
        return Decision(
            Verdict.DENY,
            "internal error",
            (
                Finding(
                    FindingCode.INTERNAL_ERROR,
                    Severity.DENY,
                    f"internal error while deciding: {type(exc).__name__}: {exc}",
                    "report this; nothing was allowed",
                ),
            ),
            policy_digest=policy.digest,
        )
