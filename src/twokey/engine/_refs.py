"""Ref updates: invariants 1-4, 7, 8, 13 (and break-glass, 6 and 12)."""

from __future__ import annotations

__all__ = ["evaluate_ref_update"]

from twokey.engine._people import Roles, roles_of, short
from twokey.engine._tally import Candidate, Tally, candidate, count
from twokey.model import (
    Approval,
    Change,
    Finding,
    FindingCode,
    RefUpdateFacts,
    Severity,
    UpdateKind,
)
from twokey.policy import Exclusion, Policy, RefRule

_POLICY_EXCLUSIONS = frozenset(Exclusion)


def evaluate_ref_update(policy: Policy, facts: RefUpdateFacts) -> tuple[Tally, RefRule | None]:
    """All findings for one ref update, before break-glass is applied."""
    change = facts.change
    rule = policy.ref_rule(change.ref)
    tally = Tally()
    if rule is None:
        tally.findings.append(
            Finding(
                FindingCode.UNPROTECTED_REF,
                Severity.INFO,
                f"{change.ref} is not protected by the policy",
                "",
                None,
            )
        )
        return tally, None
    if change.kind is UpdateKind.DELETE:
        if not rule.allow_deletion:
            tally.findings.append(
                Finding(
                    FindingCode.REF_DELETION,
                    Severity.DENY,
                    f"{change.ref} may not be deleted",
                    "protected refs are never deleted; set 'deletion: true' to allow it",
                    rule.rule,
                )
            )
        return tally, rule
    if change.kind is UpdateKind.FORCE and not rule.allow_force_push:
        tally.findings.append(
            Finding(
                FindingCode.FORCE_PUSH,
                Severity.DENY,
                f"{change.ref} would be rewritten ({short(change.old)} is not an ancestor of "
                f"{short(change.new)})",
                f"push a fast-forward: merge or rebase onto {short(change.old)}",
                rule.rule,
                commits=(change.old, change.new),
            )
        )
    _unclean_merges(change, rule, tally)
    _rejected(facts, tally)
    roles = roles_of(policy, change.commits, change.pusher)
    covering = _covering(policy, change, facts.approvals, rule, tally)
    _merge(
        tally,
        count(
            policy,
            rule.approval,
            covering,
            roles.excluded(rule.approval.exclude),
            missing_code=FindingCode.INSUFFICIENT_APPROVALS,
            subject=change.ref,
        ),
    )
    _owners(policy, change, rule, covering, roles, tally)
    _policy_change(policy, change, covering, roles, tally)
    _checks(policy, facts, rule, tally)
    return tally, rule


def _merge(into: Tally, part: Tally) -> None:
    into.people |= part.people
    into.findings += part.findings
    into.counted += part.counted
    into.excluded += part.excluded


def _unclean_merges(change: Change, rule: RefRule, tally: Tally) -> None:
    for commit in change.commits:
        if commit.is_merge and commit.clean_merge is False:
            tally.findings.append(
                Finding(
                    FindingCode.UNCLEAN_MERGE,
                    Severity.DENY,
                    f"merge {short(commit.sha)} is not the clean merge of its parents "
                    "(it adds or changes content of its own)",
                    "redo the merge without edits, or commit the extra change separately for "
                    "review",
                    rule.rule,
                    commits=(commit.sha,),
                )
            )


def _rejected(facts: RefUpdateFacts, tally: Tally) -> None:
    for who, reason in sorted(set(facts.rejected)):
        code = (
            FindingCode.UNKNOWN_SIGNER
            if reason.startswith("UNKNOWN_SIGNER")
            else FindingCode.MALFORMED_INPUT
        )
        tally.findings.append(
            Finding(
                code,
                Severity.WARN,
                f"evidence from {who} was rejected: {reason}",
                "re-sign the evidence with a registered key",
                None,
                (who,),
            )
        )


def _covering(
    policy: Policy, change: Change, approvals: tuple[Approval, ...], rule: RefRule, tally: Tally
) -> list[Candidate]:
    """Approvals bound to the content that lands (invariant 2); the rest explained."""
    head = change.head
    merged = set(head.parents[1:]) if head is not None and head.clean_merge else set()
    shas = {c.sha for c in change.commits}
    trees = {c.tree for c in change.commits}
    out = []
    for approval in sorted(approvals, key=lambda a: (str(a.signer), a.evidence_id, a.commit)):
        if approval.repository != change.repository or approval.ref != change.ref:
            tally.findings.append(
                Finding(
                    FindingCode.EVIDENCE_MISMATCH,
                    Severity.WARN,
                    f"approval by {approval.signer} is for {approval.repository} {approval.ref}, "
                    f"not {change.repository} {change.ref}",
                    "approve this repository and ref",
                    rule.rule,
                )
            )
        elif (
            approval.tree == change.new_tree
            or approval.commit == change.new
            or approval.commit in merged
        ):
            out.append(
                candidate(
                    policy, approval.signer, approval.trust, approval.evidence_id or approval.source
                )
            )
        elif approval.commit in shas or approval.tree in trees:
            newer = [short(c.sha) for c in change.commits if c.sha != approval.commit]
            tally.findings.append(
                Finding(
                    FindingCode.STALE_APPROVAL,
                    Severity.WARN,
                    f"approval by {approval.signer} covers {short(approval.commit)} but new "
                    f"content landed after it ({', '.join(newer[-3:])})",
                    f"approve the new head {short(change.new)}",
                    rule.rule,
                    commits=(approval.commit, change.new),
                )
            )
        else:
            tally.findings.append(
                Finding(
                    FindingCode.EVIDENCE_MISMATCH,
                    Severity.WARN,
                    f"approval by {approval.signer} is for {short(approval.commit)}, content this "
                    "update does not bring",
                    f"approve {short(change.new)}",
                    rule.rule,
                )
            )
    return out


def _owners(
    policy: Policy,
    change: Change,
    rule: RefRule,
    covering: list[Candidate],
    roles: Roles,
    tally: Tally,
) -> None:
    for owner in rule.owners:
        touched = [p for p in change.paths if owner.matches(p)]
        if touched:
            touched.sort()
            subject = f"{change.ref} ({owner.pattern}: {', '.join(touched[:3])})"
            _merge(
                tally,
                count(
                    policy,
                    owner.approval,
                    covering,
                    roles.excluded(owner.approval.exclude),
                    missing_code=FindingCode.OWNER_APPROVAL_MISSING,
                    subject=subject,
                ),
            )


def _policy_change(
    policy: Policy, change: Change, covering: list[Candidate], roles: Roles, tally: Tally
) -> None:
    if policy.policy_path not in change.paths:
        return
    rule = policy.policy_change
    _merge(
        tally,
        count(
            policy,
            rule,
            covering,
            roles.excluded(rule.exclude),
            missing_code=FindingCode.POLICY_CHANGE_UNAPPROVED,
            subject=f"the policy change ({policy.policy_path})",
        ),
    )


def _checks(policy: Policy, facts: RefUpdateFacts, rule: RefRule, tally: Tally) -> None:
    if rule.checks is None:
        return
    checks = rule.checks
    change = facts.change
    for name in checks.names:
        results = []
        for result in facts.checks:
            signer = policy.resolve(result.signer)
            if (
                result.name == name
                and result.subject == change.new_tree
                and result.repository == change.repository
                and signer is not None
                and signer.id in checks.signers
                and result.trust in checks.accept
            ):
                results.append(result)
        if any(r.passed for r in results):
            continue
        code = FindingCode.CHECK_FAILED if results else FindingCode.CHECK_MISSING
        what = "failed" if results else "has no trusted passing result"
        tally.findings.append(
            Finding(
                code,
                Severity.DENY,
                f"check '{name}' {what} for tree {short(change.new_tree)}",
                f"a passing '{name}' result for this exact content, signed by "
                f"{', '.join(sorted(checks.signers))}",
                checks.rule,
            )
        )
