"""Where a valid policy loosens the default invariants, said out loud.

DESIGN.md: "a policy may only tighten [the invariants] unless it says so loudly". The schema lets
a policy loosen some of them on purpose (an open sandbox branch, a force-pushable ref, trailers
accepted for history): such a policy loads, and :func:`loosenings` lists every place it does so,
so ``twokey policy check`` and ``show`` can say it every time, with the line and the invariant.
"""

from __future__ import annotations

__all__ = ["Loosening", "loosenings"]

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from twokey.model import RuleRef, TrustLevel
from twokey.policy._model import (
    ApprovalRule,
    CheckRule,
    EnvironmentRule,
    Exclusion,
    Policy,
    RefRule,
)

# The defaults the invariants ask for (DESIGN invariants 3 and 5).
_CHANGE_SEPARATION = (Exclusion.AUTHORS, Exclusion.COMMITTERS, Exclusion.CO_AUTHORS)
_DEPLOY_SEPARATION = (Exclusion.AUTHORS, Exclusion.APPROVERS)


@dataclass(frozen=True, slots=True)
class Loosening:
    """One place where the policy is looser than the default invariants."""

    rule: RuleRef
    invariant: int
    message: str

    def __post_init__(self) -> None:
        if not 1 <= self.invariant <= 13:
            raise ValueError("a Loosening names one of DESIGN's 13 invariants")
        if not self.message:
            raise ValueError("a Loosening needs a message")

    def __str__(self) -> str:
        return (
            f"{self.rule.file}:{self.rule.line}:{self.rule.column}: {self.message} "
            f"(loosens invariant {self.invariant})"
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"rule": self.rule.to_dict(), "invariant": self.invariant, "message": self.message}


def loosenings(policy: Policy) -> tuple[Loosening, ...]:
    """Every place ``policy`` loosens a default invariant, in file order."""
    found = [*_refs(policy.refs), *_environments(policy.environments.values())]
    found += _trust(policy.policy_change, "policy changes")
    return tuple(sorted(found, key=lambda f: (f.rule.line, f.rule.column, f.message)))


def _refs(rules: tuple[RefRule, ...]) -> Iterator[Loosening]:
    for rule in rules:
        if rule.allow_force_push:
            yield Loosening(rule.rule, 1, f"{rule.pattern} may be force-pushed")
        if rule.allow_deletion:
            yield Loosening(rule.rule, 1, f"{rule.pattern} may be deleted")
        if rule.allow_unknown_authors:
            yield Loosening(
                rule.rule,
                3,
                f"{rule.pattern}: commits by authors the policy does not know may land "
                "(unknown_authors: allow)",
            )
        if rule.allow_move:  # ADR 0011: protected tags are immutable by default
            yield Loosening(rule.rule, 1, f"{rule.pattern} may be moved once created")
        yield from _approval(rule.approval, rule.pattern, _CHANGE_SEPARATION, 1)
        for owner in rule.owners:
            where = f"owners of {owner.pattern} on {rule.pattern}"
            yield from _approval(owner.approval, where, _CHANGE_SEPARATION, 4)
        yield from _checks(rule.checks, rule.pattern)


def _environments(envs: Iterable[EnvironmentRule]) -> Iterator[Loosening]:
    for env in envs:
        yield from _approval(env.approval, f"deploys to {env.name}", _DEPLOY_SEPARATION, 5)
        yield from _checks(env.checks, env.name)


def _approval(
    rule: ApprovalRule, where: str, separation: tuple[Exclusion, ...], invariant: int
) -> Iterator[Loosening]:
    if rule.count == 0:
        yield Loosening(rule.rule, invariant, f"{where} need no approval")
        return
    missing = [e.value for e in separation if e not in rule.exclude]
    if missing:
        yield Loosening(
            rule.rule,
            5 if invariant == 5 else 3,
            f"{where}: {', '.join(missing)} may approve (not excluded)",
        )
    yield from _trust(rule, where)


def _trust(rule: ApprovalRule, where: str) -> Iterator[Loosening]:
    if TrustLevel.TRAILER in rule.accept:
        yield Loosening(rule.rule, 11, f"{where}: unverified trailer approvals count")
    if rule.count_applied:
        yield Loosening(
            rule.rule,
            3,
            f"{where}: the committer who applied another's patch counts as its approver "
            "(count_applied; an unverified claim)",
        )


def _checks(checks: CheckRule | None, where: str) -> Iterator[Loosening]:
    if checks is not None and TrustLevel.TRAILER in checks.accept:
        yield Loosening(checks.rule, 13, f"checks on {where}: unverified trailer results count")
