"""The resolved policy as data: who may do what (``twokey policy show``, the gateway's page)."""

from __future__ import annotations

__all__ = ["break_glass_reviewers", "policy_summary", "roles"]

from collections import defaultdict

from twokey.policy._loosenings import loosenings
from twokey.policy._model import ApprovalRule, EnvironmentRule, Policy, RefRule


def _approval(rule: ApprovalRule) -> dict[str, object]:
    return {
        "approvals": rule.count,
        "approvers": sorted(rule.approvers),
        "as_written": list(rule.approver_names),
        "exclude": sorted(e.value for e in rule.exclude),
        "accept": sorted(t.value for t in rule.accept),
        "rule": str(rule.rule),
    }


def _ref(rule: RefRule) -> dict[str, object]:
    return {
        "pattern": rule.pattern,
        **_approval(rule.approval),
        "force_push": rule.allow_force_push,
        "deletion": rule.allow_deletion,
        "signed_commits": rule.signed_commits,
        "unknown_authors": "allow" if rule.allow_unknown_authors else "deny",
        "owners": {o.pattern: _approval(o.approval) for o in rule.owners},
        "checks": {"require": list(rule.checks.names), "signers": sorted(rule.checks.signers)}
        if rule.checks
        else None,
        "break_glass": sorted(rule.break_glass),
        "defined_at": str(rule.rule),
    }


def _env(env: EnvironmentRule) -> dict[str, object]:
    return {
        "from": list(env.from_refs),
        "deployers": sorted(env.deployers),
        **_approval(env.approval),
        "builders": sorted(env.builders),
        "checks": {"require": list(env.checks.names), "signers": sorted(env.checks.signers)}
        if env.checks
        else None,
        "freeze": [w.text for w in env.freeze],
        "break_glass": sorted(env.break_glass),
        "defined_at": str(env.rule),
    }


def roles(policy: Policy) -> dict[str, list[str]]:
    """For each principal, what the policy lets it do ("approve refs/heads/main", ...)."""
    out: dict[str, list[str]] = defaultdict(list)
    for rule in policy.refs:
        for who in rule.approval.approvers:
            out[who].append(f"approve {rule.pattern}")
        for owner in rule.owners:
            for who in owner.approval.approvers:
                out[who].append(f"approve {owner.pattern} on {rule.pattern}")
        for who in rule.break_glass:
            out[who].append(f"break glass on {rule.pattern}")
    for name, env in sorted(policy.environments.items()):
        for who in env.approval.approvers:
            out[who].append(f"approve deploys to {name}")
        for who in env.deployers:
            out[who].append(f"deploy to {name}")
        for who in env.builders:
            out[who].append(f"build for {name}")
        for who in env.break_glass:
            out[who].append(f"break glass on {name}")
    for who in policy.policy_change.approvers:
        out[who].append("approve policy changes")
    for who in sorted(policy.break_glass_reviewers or ()):
        out[who].append("review break-glass after the fact")
    return {pid: out.get(pid, []) for pid in sorted(policy.principals)}


def policy_summary(policy: Policy) -> dict[str, object]:
    """The resolved policy as JSON-ready data (``twokey policy show --format json``)."""
    return {
        "source": policy.source,
        "digest": policy.digest,
        "people": sorted(p.id for p in policy.principals.values() if p.is_person),
        "services": sorted(p.id for p in policy.principals.values() if not p.is_person),
        "groups": {name: sorted(members) for name, members in sorted(policy.groups.items())},
        "refs": [_ref(rule) for rule in policy.refs],
        "environments": {name: _env(env) for name, env in sorted(policy.environments.items())},
        "policy_changes": _approval(policy.policy_change),
        "break_glass_reviewers": break_glass_reviewers(policy),
        "roles": roles(policy),
        "loosenings": [loosening.to_dict() for loosening in loosenings(policy)],
    }


def break_glass_reviewers(policy: Policy) -> list[str] | None:
    """Who may review a break-glass (None: any person other than the one who broke glass)."""
    reviewers = policy.break_glass_reviewers
    return sorted(reviewers) if reviewers is not None else None
