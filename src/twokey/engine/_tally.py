"""Counting approvals: distinct eligible people, never keys, emails or services."""

# No ``from __future__ import annotations``: typing.NamedTuple turns a string annotation into a
# ForwardRef, which compiles it, and the first compile() of a process builds the AST types
# (~9 M instructions of a deploy check, ADR 0040). Annotations here are evaluated at definition.

__all__ = ["Candidate", "Tally", "candidate", "count"]

from collections.abc import Collection, Iterable, Mapping
from typing import NamedTuple

from twokey.engine._cache import PolicyIndex, Roster
from twokey.engine._people import Why, why_text
from twokey.model import (
    APPLIED,
    Alias,
    Counted,
    Excluded,
    Finding,
    FindingCode,
    Severity,
    TrustLevel,
)
from twokey.policy import ApprovalRule

# Enum ``.value`` is a slow property; the hot path looks trust names up here instead.
_TRUST = {level: level.value for level in TrustLevel}


class Candidate(NamedTuple):
    """One piece of approving evidence, reduced to what counting needs (built once per
    approval per decision: a NamedTuple, since a frozen dataclass costs three times as much).

    Attributes:
        signer: the alias that signed (or claimed, for a trailer) the approval.
        trust: how far the evidence is trusted.
        evidence: its evidence id (or source), which names it in ``counted``.
        person: the principal ``signer`` resolves to; None when it is nobody in the policy.
    """

    signer: Alias
    trust: TrustLevel
    evidence: str
    person: str | None


def candidate(index: PolicyIndex, signer: Alias, trust: TrustLevel, evidence: str) -> Candidate:
    """A candidate with its signer resolved (once) through the policy's aliases."""
    return Candidate(signer, trust, evidence, index.principal_id(signer))


class Tally:
    """The outcome of counting one rule, or of a whole evaluation (mutable while it runs)."""

    __slots__ = ("counted", "excluded", "findings", "people")

    def __init__(self) -> None:
        self.people: set[str] = set()
        self.findings: list[Finding] = []
        self.counted: list[Counted] = []
        self.excluded: list[Excluded] = []

    def merge(self, part: "Tally") -> None:
        """Add the outcome of one rule to this one."""
        self.people |= part.people
        self.findings += part.findings
        self.counted += part.counted
        self.excluded += part.excluded


def count(
    index: PolicyIndex,
    rule: ApprovalRule,
    candidates: Iterable[Candidate],
    excluded: Mapping[str, Why],
    into: Tally,
    *,
    missing_code: FindingCode,
    subject: str,
    primary: bool = True,
    applying: Mapping[str, Why] | None = None,
) -> int:
    """Count distinct eligible people for ``rule`` into ``into``; return how many counted.

    ``excluded`` maps person ids to why they may not count.

    Steps: (1) resolve each signer to a principal (unknown never counts); (2) services never
    count; (3) the trust level must be accepted by the rule; (4) the person must be an approver;
    (5) the person must not be excluded (under any alias: exclusion is by person id); (6) the
    distinct people left are compared with the threshold, and with the eligible set.

    The result never depends on the order of ``candidates``: a person approving twice is
    counted once, with the smallest (evidence id, trust) of their approvals, and refusals are
    de-duplicated by their full text (the caller sorts findings).

    A rule applied on top of the ref's own rule (path owners, the policy-change sign-off) is
    not ``primary``: there, only evidence from that rule's own approvers is discussed, since
    the primary rule already reported unknown signers and services, and a reviewer who is not
    a path owner is no finding at all.

    ``applied`` evidence (the committer of another's patch) counts only where the rule says
    ``count_applied``, and is then held to ``applying``: the rule's exclusions but committers
    (applying the patch is what made them its committer). A committer who is nobody in the
    policy, or a service, claims nothing: such evidence is left out without a finding.
    """
    approvers = index.people_in(rule)
    accept = rule.accept
    best: dict[str, tuple[str, str]] = {}
    refused: dict[tuple[FindingCode, str, str], str] = {}
    for cand in candidates:
        person = cand.person
        barred: Mapping[str, Why] | None = excluded
        if cand.evidence == APPLIED:
            if person is None or not index.principals[person].is_person:
                continue
            barred = (excluded if applying is None else applying) if rule.count_applied else None
        if barred is None:
            if primary or person in rule.approvers:
                refused[_not_applied(index, person)] = "a review by an approver"
        elif person in approvers and person not in barred and cand.trust in accept:
            assert person is not None  # approvers holds principal ids only
            mine = (cand.evidence, _TRUST[cand.trust])
            held = best.get(person)
            if held is None or mine < held:
                best[person] = mine
        elif primary or person in rule.approvers:
            code, who, reason, satisfy = _refusal(index, rule, cand, person, barred)
            refused[(code, who, reason)] = satisfy
    where = rule.rule.path
    into.people.update(best)
    for person, (evidence, trust) in best.items():
        into.counted.append(index.counted(where, person, evidence, trust))
    for (code, who, reason), satisfy in refused.items():
        into.excluded.append(Excluded(where, who, reason))
        into.findings.append(
            Finding(
                code,
                Severity.WARN,
                f"approval by {who} does not count for {subject}: {reason}",
                satisfy,
                rule.rule,
                (who,),
            )
        )
    if len(best) < rule.count:
        roster = index.roster(rule)
        into.findings += _threshold(
            rule, approvers, roster, excluded, best.keys(), missing_code, subject
        )
    return len(best)


def _not_applied(index: PolicyIndex, person: str | None) -> tuple[FindingCode, str, str]:
    """Applied evidence where the rule does not count it (``count_applied`` is off)."""
    who = index.principals[person].id if person is not None else "?"
    reason = "applying another's patch is not counted as approval here (count_applied)"
    return FindingCode.UNTRUSTED_EVIDENCE, who, reason


def _refusal(
    index: PolicyIndex,
    rule: ApprovalRule,
    cand: Candidate,
    person: str | None,
    excluded: Mapping[str, Why],
) -> tuple[FindingCode, str, str, str]:
    """Why a candidate that did not count was refused: (code, who, reason, satisfy)."""
    principal = index.principals[person] if person is not None else None
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
    return (
        FindingCode.SELF_APPROVAL,
        who,
        f"{who} is {why_text(excluded[who])}",
        "an approval from someone who did not write, commit or push the change",
    )


def _threshold(
    rule: ApprovalRule,
    approvers: frozenset[str],
    roster: Roster,
    excluded: Mapping[str, Why],
    counted: Collection[str],
    missing_code: FindingCode,
    subject: str,
) -> list[Finding]:
    """The threshold finding (and ``TOO_FEW_ELIGIBLE``) when fewer than ``rule.count`` counted.

    ``roster``: ``approvers`` in order; the eligible are the roster but the excluded and the
    counted, named in that order (the default policy of a real history has hundreds of
    people: no pass over them per change).
    """
    have = len(counted)
    removed = {p for p in (*excluded, *counted) if p in approvers}
    left, eligible = roster.without(removed)
    need = rule.count - have
    # From the (few) excluded, not from the (maybe thousands of) approvers: ``approvers &
    # excluded.keys()`` copies the approvers into a new set for every change (0.1 ms each
    # with the 2,400 people of numpy's history).
    not_from = sorted(p for p in excluded if p in approvers)
    also = "".join(f", not from {who} ({why_text(excluded[who])})" for who in not_from[:3])
    also += ", ..." if len(not_from) > 3 else ""
    groups = ", ".join(rule.approver_names)
    people = tuple(sorted(counted))
    out = [
        Finding(
            missing_code,
            Severity.DENY,
            f"{subject} needs {rule.count} approval(s) from {groups}; {have} counted"
            + (f" ({', '.join(people)})" if people else ""),
            f"{need} more approval(s) from {groups} ({eligible or 'nobody eligible'})" + also,
            rule.rule,
            people,
        )
    ]
    if left < need:
        out.append(
            Finding(
                FindingCode.TOO_FEW_ELIGIBLE,
                Severity.DENY,
                f"{subject}: only {left} eligible approver(s) left for {need} more approval(s)",
                "use break-glass with a reason; it stays an open exception until "
                "someone else reviews it (invariant 12)",
                rule.rule,
                tuple(p for p in roster.names if p not in removed),
            )
        )
    return out


def _names(people: Iterable[str]) -> str:
    return ", ".join(sorted(people))
