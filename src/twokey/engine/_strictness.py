"""Which protected refs count as already reviewed for another (DESIGN invariant 2, ADR 0011).

A commit already on another protected ref is left out of a change only when that ref's rule is
at least as strict as the rule of the ref being updated; otherwise a commit parked on a weaker
ref (``sandbox/**`` with ``approvals: 0``) would lose its author, and its author's own approval
would count on the stricter ref (issue 15, item 3: laundering through a weaker ref).
"""

from __future__ import annotations

__all__ = ["at_least_as_strict"]

from twokey.policy import ApprovalRule, CheckRule, OwnerRule, RefRule


def at_least_as_strict(other: RefRule, rule: RefRule) -> bool:
    """True when everything ``other`` let land would also pass ``rule``'s bar.

    Steps (ADR 0011): (1) the approval rule is at least as strict (:func:`_approval`); for a
    tag rule the approvers are not compared: a tag's approvers approve the release act, and
    the code it names was reviewed under the other rule's equal bar; (2) every owner glob of
    ``rule`` is also in ``other`` with an approval at least as strict; (3) every check
    ``rule`` requires, ``other`` requires from no more signers and levels; (4) ``other``
    allows no force-push, deletion or tag move that ``rule`` does not. Break-glass is not
    compared: a break-glass landing stays an open exception in every report (invariant 6).
    """
    if other is rule:
        return True
    who = not rule.pattern.startswith("refs/tags/")
    return (
        _approval(other.approval, rule.approval, approvers=who)
        and all(_owner(other.owners, owner) for owner in rule.owners)
        and _checks(other.checks, rule.checks)
        and (rule.allow_force_push or not other.allow_force_push)
        and (rule.allow_deletion or not other.allow_deletion)
        and (rule.allow_move or not other.allow_move)
    )


def _approval(other: ApprovalRule, rule: ApprovalRule, *, approvers: bool = True) -> bool:
    """At least as many approvals, from a subset of the approvers, excluding a superset of
    the people, accepting a subset of the trust levels; anything is as strict as no bar."""
    if rule.count == 0:
        return True
    return (
        other.count >= rule.count
        and (not approvers or other.approvers <= rule.approvers)
        and other.exclude >= rule.exclude
        and other.accept <= rule.accept
    )


def _owner(owners: tuple[OwnerRule, ...], owner: OwnerRule) -> bool:
    return any(o.pattern == owner.pattern and _approval(o.approval, owner.approval) for o in owners)


def _checks(other: CheckRule | None, rule: CheckRule | None) -> bool:
    if rule is None:
        return True
    return (
        other is not None
        and set(other.names) >= set(rule.names)
        and other.signers <= rule.signers
        and other.accept <= rule.accept
    )
