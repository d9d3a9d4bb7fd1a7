"""Counting approvals: distinct eligible people, never keys, emails or services."""

from __future__ import annotations

__all__ = ["Candidate", "Tally", "candidate", "count"]

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from twokey.engine._cache import identities
from twokey.model import Alias, Counted, Excluded, Finding, FindingCode, Severity, TrustLevel
from twokey.policy import ApprovalRule, Policy


@dataclass(frozen=True, slots=True)
class Candidate:
    """One piece of approving evidence, reduced to what counting needs."""

    signer: Alias
    trust: TrustLevel
    evidence: str
    person: str | None  # the principal the signer resolves to, resolved once by the caller


def candidate(policy: Policy, signer: Alias, trust: TrustLevel, evidence: str) -> Candidate:
    """A candidate with its signer resolved (once) through the policy's aliases."""
    return Candidate(signer, trust, evidence, identities(policy).principal_id(signer))


@dataclass
class Tally:
    """The outcome of counting one rule."""

    people: set[str] = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)
    counted: list[Counted] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)


def count(
    policy: Policy,
    rule: ApprovalRule,
    candidates: Iterable[Candidate],
    excluded: Mapping[str, str],
    *,
    missing_code: FindingCode,
    subject: str,
) -> Tally:
    """Count distinct eligible people for ``rule``; ``excluded`` maps person id to why not.

    Steps: (1) resolve each signer to a principal (unknown never counts); (2) services never
    count; (3) the trust level must be accepted by the rule; (4) the person must be an approver;
    (5) the person must not be excluded (under any alias: exclusion is by person id); (6) the
    distinct people left are compared with the threshold, and with the eligible set.
    """
    tally = Tally()
    seen: set[tuple[FindingCode, str]] = set()
    where = rule.rule.path
    for cand in candidates:  # callers pass candidates in a deterministic order
        person = cand.person
        refusal = _refusal(policy, rule, cand, person, excluded)
        if refusal is None:
            assert person is not None  # _refusal refuses unknown signers
            if person not in tally.people:
                tally.people.add(person)
                tally.counted.append(Counted(where, person, cand.evidence, cand.trust.value))
            continue
        code, who, reason, satisfy = refusal
        tally.excluded.append(Excluded(where, who, reason))
        if (code, who) not in seen:
            seen.add((code, who))
            tally.findings.append(
                Finding(
                    code,
                    Severity.WARN,
                    f"approval by {who} does not count for {subject}: {reason}",
                    satisfy,
                    rule.rule,
                    (who,),
                )
            )
    _threshold(rule, excluded, tally, missing_code, subject)
    return tally


def _refusal(  # noqa: PLR0911 - one return per numbered step of count()
    policy: Policy,
    rule: ApprovalRule,
    cand: Candidate,
    person: str | None,
    excluded: Mapping[str, str],
) -> tuple[FindingCode, str, str, str] | None:
    if (
        person is not None
        and person in rule.approvers
        and person not in excluded
        and (cand.trust in rule.accept)
    ):
        return None  # the common case, decided with set lookups only
    principal = policy.principals[person] if person is not None else None
    if principal is None:
        return (
            FindingCode.UNKNOWN_SIGNER,
            str(cand.signer),
            "the signer is not registered in the policy",
            "register the key under a person in the policy (keys:)",
        )
    who = principal.id
    if not principal.is_person:
        return (
            FindingCode.SERVICE_APPROVAL,
            who,
            f"{who} is a service, not a person",
            "services never approve; a person must (invariant 10)",
        )
    if cand.trust not in rule.accept:
        accepted = ", ".join(sorted(t.value for t in rule.accept))
        return (
            FindingCode.UNTRUSTED_EVIDENCE,
            who,
            f"{cand.trust.value} evidence is not accepted here (accepted: {accepted})",
            "sign the approval with a registered key (twokey approve)",
        )
    if who not in rule.approvers:
        return (
            FindingCode.NOT_AN_APPROVER,
            who,
            f"{who} is not among the approvers ({', '.join(rule.approver_names)})",
            f"an approval from {_names(rule.approvers)}",
        )
    if who in excluded:
        return (
            FindingCode.SELF_APPROVAL,
            who,
            f"{who} is {excluded[who]}",
            "an approval from someone who did not write, commit or push the change",
        )
    return None


def _threshold(
    rule: ApprovalRule,
    excluded: Mapping[str, str],
    tally: Tally,
    missing_code: FindingCode,
    subject: str,
) -> None:
    have = len(tally.people)
    if have >= rule.count:
        return
    eligible = rule.approvers - excluded.keys() - tally.people
    need = rule.count - have
    not_from = sorted(rule.approvers & excluded.keys())
    also = f", not from {', '.join(not_from)} (excluded)" if not_from else ""
    satisfy = f"{need} more approval(s) from {_names(eligible) or 'nobody eligible'}{also}"
    counted = f" ({', '.join(sorted(tally.people))})" if tally.people else ""
    tally.findings.append(
        Finding(
            missing_code,
            Severity.DENY,
            f"{subject} needs {rule.count} approval(s) from {', '.join(rule.approver_names)}; "
            f"{have} counted{counted}",
            satisfy,
            rule.rule,
            tuple(sorted(tally.people)),
        )
    )
    if len(eligible) < need:
        tally.findings.append(
            Finding(
                FindingCode.TOO_FEW_ELIGIBLE,
                Severity.DENY,
                f"{subject}: only {len(eligible)} eligible approver(s) left for {need} more "
                "approval(s)",
                "use break-glass with a reason; it stays an open exception until "
                "someone else reviews it (invariant 12)",
                rule.rule,
                tuple(sorted(eligible)),
            )
        )


def _names(people: Iterable[str]) -> str:
    return ", ".join(sorted(people))
