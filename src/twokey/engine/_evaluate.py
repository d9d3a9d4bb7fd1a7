"""The one decision function every door calls."""

from __future__ import annotations

__all__ = ["evaluate", "evaluate_safely"]

import operator
from datetime import datetime
from typing import assert_never

from twokey.engine._people import short
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
    UpdateKind,
    Verdict,
)
from twokey.policy import Policy, Principal

# Break-glass never excuses these: they are not about too few people (invariants 1, 6-8).
# A policy change stays a deny: an emergency must not leave a weaker policy in force after it.
_UNBREAKABLE = frozenset(
    {
        FindingCode.FORCE_PUSH,
        FindingCode.REF_DELETION,
        FindingCode.POLICY_CHANGE_UNAPPROVED,
        FindingCode.MALFORMED_INPUT,
        FindingCode.INTERNAL_ERROR,
        FindingCode.UNKNOWN_ENVIRONMENT,
        FindingCode.NOT_A_COMMIT,  # ADR 0011: immutability, not too few people
        FindingCode.TAG_MOVED,
    }
)
_CODE_ORDER = {code: i for i, code in enumerate(FindingCode)}
_SEVERITY_ORDER = {Severity.DENY: 0, Severity.WARN: 1, Severity.INFO: 2}


class _RefRules:
    """The ref-update rules, imported on the first ref update: a deploy check never needs
    them (start-up time, ADR 0040). Kept in a module global once loaded, because an ``import``
    inside :func:`evaluate` costs ~1.7 µs per decision even when the module is loaded."""

    __slots__ = ("authorship_findings", "evaluate_ref_update")

    def __init__(self) -> None:
        from twokey.engine._authorship import authorship_findings  # noqa: PLC0415
        from twokey.engine._refs import evaluate_ref_update  # noqa: PLC0415

        self.evaluate_ref_update = evaluate_ref_update
        self.authorship_findings = authorship_findings


class _DeployRules:
    """The deploy rules, imported on the first deploy: the hook never needs them (as above)."""

    __slots__ = ("evaluate_deploy", "short_digest")

    def __init__(self) -> None:
        from twokey.engine._deploy import evaluate_deploy, short_digest  # noqa: PLC0415

        self.evaluate_deploy = evaluate_deploy
        self.short_digest = short_digest


_ref_rules: _RefRules | None = None
_deploy_rules: _DeployRules | None = None


def loaded_ref_rules() -> _RefRules:
    global _ref_rules  # noqa: PLW0603 - loaded once, then read by every ref update
    if _ref_rules is None:
        _ref_rules = _RefRules()
    return _ref_rules


def loaded_deploy_rules() -> _DeployRules:
    global _deploy_rules  # noqa: PLW0603 - loaded once, then read by every deploy
    if _deploy_rules is None:
        _deploy_rules = _DeployRules()
    return _deploy_rules


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
        rules = _ref_rules or loaded_ref_rules()
        tally, rule = rules.evaluate_ref_update(policy, facts)
        if rule is not None and facts.change.kind is not UpdateKind.DELETE:
            # ADR 0012; here, not in _refs, because key validity is judged at the door's time.
            tally.findings += rules.authorship_findings(policy, facts.change, rule, now)
        subject = f"{facts.change.ref} {short(facts.change.old)}..{short(facts.change.new)}"
        glass = facts.break_glass
        allowed_glass = rule.break_glass if rule is not None else frozenset()
        where = rule.rule if rule is not None else None
    elif isinstance(facts, DeployFacts):
        deploys = _deploy_rules or loaded_deploy_rules()
        tally, env = deploys.evaluate_deploy(policy, facts, now)
        request = facts.request
        subject = f"deploy {deploys.short_digest(request.artifact)} to {request.environment}"
        glass = request.break_glass
        allowed_glass = env.break_glass if env is not None else frozenset()
        where = env.rule if env is not None else None
    else:
        assert_never(facts)
    broken = _break_glass(policy, tally, glass, allowed_glass, where)
    # Sets, then a total order: evidence order (and duplicates) never change the output.
    findings = tuple(sorted(set(tally.findings), key=_finding_key))
    verdict = Verdict.DENY if any(f.severity is Severity.DENY for f in findings) else Verdict.ALLOW
    return Decision(
        verdict,
        subject,
        findings,
        tuple(sorted(tally.counted, key=_counted_key)),  # unique per rule by construction
        tuple(sorted(set(tally.excluded), key=_excluded_key)),
        policy.digest,
        broken,
    )


def _finding_key(finding: Finding) -> tuple[object, ...]:
    rule = finding.rule
    # By code (enum order), then message (the brief); the rest only breaks exact ties.
    return (
        _CODE_ORDER[finding.code],
        finding.message,
        _SEVERITY_ORDER[finding.severity],
        finding.people,
        finding.commits,
        finding.satisfy,
        (rule.file, rule.line, rule.column, rule.path) if rule is not None else (),
    )


_counted_key = operator.attrgetter("rule", "person", "evidence", "trust")
_excluded_key = operator.attrgetter("rule", "who", "reason")


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
    why = _refuse_glass(actor, who, allowed, glass.reason)
    if why:
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


def _refuse_glass(actor: Principal | None, who: str, allowed: frozenset[str], reason: str) -> str:
    """Why break-glass is refused, or "" when it stands (invariant 6: named people, a reason)."""
    if actor is None:
        return "is not registered in the policy"
    if not actor.is_person:
        return "is a service; only named people may break glass"
    if who not in allowed:
        return "is not allowed to break glass here"
    if not reason.strip():
        return "gave no reason"
    return ""


def evaluate_safely(policy: Policy, facts: RefUpdateFacts | DeployFacts, now: datetime) -> Decision:
    """:func:`evaluate`, with any exception turned into a deny (fail closed, invariant 8).

    Malformed input (a ``ValueError``, e.g. a naive ``now``) gives ``MALFORMED_INPUT``;
    anything else ``INTERNAL_ERROR``. Neither can ever be an allow.
    """
    try:
        return evaluate(policy, facts, now)
    except Exception as exc:  # the point: nothing may escape as an allow
        malformed = isinstance(exc, ValueError)  # what the model raises for bad input
        code = FindingCode.MALFORMED_INPUT if malformed else FindingCode.INTERNAL_ERROR
        what = "malformed input" if malformed else "internal error while deciding"
        return Decision(
            Verdict.DENY,
            _subject_of(facts),
            (
                Finding(
                    code,
                    Severity.DENY,
                    f"{what}: {type(exc).__name__}: {exc}",
                    "fix the input the door gathered" if malformed else "report this as a bug",
                ),
            ),
            policy_digest=getattr(policy, "digest", ""),
        )


def _subject_of(facts: object) -> str:
    """The decision subject, as far as broken facts allow."""
    try:
        if isinstance(facts, RefUpdateFacts):
            return f"{facts.change.ref} {short(facts.change.old)}..{short(facts.change.new)}"
        if isinstance(facts, DeployFacts):
            request = facts.request
            digest = loaded_deploy_rules().short_digest(request.artifact)
            return f"deploy {digest} to {request.environment}"
    except Exception:  # best effort only: the decision is a deny anyway
        return "unreadable facts"
    return f"unreadable facts ({type(facts).__name__})"
