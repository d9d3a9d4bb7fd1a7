"""Judging each kind of change once: the engine's decision, memoised by the shape of the facts.

Most of a long history is the same few people committing one change each, reviewed by trailer:
facts that differ only in commit ids. The engine is pure (docs/adr/0001), and for such a
change it reads commit ids only to compare them with each other and to name them in messages,
so its decision for one change is the decision for another of the same shape with the ids
renamed. The memo stores the decision with the ids replaced by placeholders and puts the new
ids back; it never decides anything itself. Only the simple shape is memoised (one non-merge
commit, trailer approvals of that commit, no checks, no pusher, no break-glass); everything
else goes to the engine directly. ``tests/integration/audit`` compares memoised reports with
unmemoised ones change by change.
"""

from __future__ import annotations

__all__ = ["MAX_ENTRIES", "Judgement", "Memo", "judge"]

from dataclasses import dataclass
from datetime import datetime

from twokey.engine import evaluate_safely
from twokey.model import ZERO_SHA, RefUpdateFacts, Severity, TrustLevel
from twokey.policy import Policy

MAX_ENTRIES = 4096  # a bound on memory whatever the history
_SHORT = 7  # the engine's short(): seven hex digits
_TOKENS = ("\x00new\x00", "\x00old\x00", "\x00tree\x00")  # NUL: never in a message
_SHORT_TOKENS = ("\x01new\x01", "\x01old\x01", "\x01tree\x01")


@dataclass(frozen=True)
class Judgement:
    """What a report row needs of a decision."""

    verdict: str
    break_glass: bool
    # (person id, trust, evidence id or source) of each approval the engine counted: one per
    # person and rule, so a stale approval, or a second one by the same person, is not in it
    counted: frozenset[tuple[str, str, str]]
    findings: tuple[tuple[str, str], ...]  # (code, message), info findings left out


class Memo:
    """Decision templates by shape of facts; bounded."""

    def __init__(self) -> None:
        self.table: dict[tuple[object, ...], Judgement] = {}
        self.policy: Policy | None = None  # the table holds decisions of this policy only
        self.hits = 0
        self.misses = 0

    def table_for(self, policy: Policy) -> dict[tuple[object, ...], Judgement]:
        """The templates of ``policy`` (a new policy, e.g. the grown default, starts afresh)."""
        if self.policy is not policy:
            self.table.clear()
            self.policy = policy
        return self.table


def _key(facts: RefUpdateFacts) -> tuple[object, ...] | None:
    change = facts.change
    if facts.checks or facts.rejected or facts.break_glass or change.pusher is not None:
        return None
    if len(change.commits) != 1 or change.commits[0].is_merge:
        return None
    commit = change.commits[0]
    ids = (change.new, change.old, change.new_tree)
    if len({i[:_SHORT] for i in ids}) != len(ids):
        return None  # two ids alike in their short form: placeholders would be ambiguous
    approvals = []
    for a in facts.approvals:
        if a.trust is not TrustLevel.TRAILER or a.commit != change.new or a.tree != commit.tree:
            return None
        if a.repository != change.repository or a.ref != change.ref:
            return None
        approvals.append((a.signer, a.source))
    return (
        change.repository,
        change.ref,
        change.old == ZERO_SHA,
        commit.author.name,
        commit.author.email,
        commit.committer.name,
        commit.committer.email,
        tuple((i.name, i.email) for i in commit.co_authors),
        tuple(sorted(approvals, key=str)),
        change.paths,
    )


def _swap(text: str, pairs: tuple[tuple[str, str], ...]) -> str:
    for old, new in pairs:
        text = text.replace(old, new)
    return text


def _judgement(policy: Policy, facts: RefUpdateFacts, now: datetime) -> Judgement:
    decision = evaluate_safely(policy, facts, now)
    return Judgement(
        decision.verdict.value,
        decision.break_glass,
        frozenset((c.person, c.trust, c.evidence) for c in decision.counted),
        tuple(
            (f.code.value, f.message) for f in decision.findings if f.severity is not Severity.INFO
        ),
    )


def _pairs(facts: RefUpdateFacts) -> tuple[tuple[str, str], ...]:
    """(commit id, placeholder): full ids first, then their short forms."""
    change = facts.change
    ids = (change.new, change.old, change.new_tree)
    full = tuple((i, t) for i, t in zip(ids, _TOKENS, strict=True))
    return full + tuple((i[:_SHORT], t) for i, t in zip(ids, _SHORT_TOKENS, strict=True))


def judge(memo: Memo | None, policy: Policy, facts: RefUpdateFacts, now: datetime) -> Judgement:
    """The engine's judgement of ``facts``: memoised when ``memo`` is given and the shape fits."""
    key = _key(facts) if memo is not None else None
    if memo is None or key is None:
        return _judgement(policy, facts, now)
    pairs = _pairs(facts)
    table = memo.table_for(policy)
    template = table.get(key)
    if template is None:
        memo.misses += 1
        found = _judgement(policy, facts, now)
        template = Judgement(
            found.verdict,
            found.break_glass,
            found.counted,
            tuple((code, _swap(message, pairs)) for code, message in found.findings),
        )
        if len(table) >= MAX_ENTRIES:
            table.clear()
        table[key] = template
        return found
    memo.hits += 1
    back = tuple((token, real) for real, token in pairs)
    return Judgement(
        template.verdict,
        template.break_glass,
        template.counted,
        tuple((code, _swap(message, back)) for code, message in template.findings),
    )
