"""Risk signals no forge reports. Each is explained in the report; none changes a verdict."""

from __future__ import annotations

__all__ = ["risk_signals"]

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

from twokey.audit._identities import probable_aliases
from twokey.audit._model import AuditChange, Signal

MIN_CHANGES = 4  # below this, patterns are noise
CONCENTRATION = 0.8
FAST_FILES = 20  # "large" changes, approved ...
BREAK_GLASS_RATE = 0.05


def _pairs(changes: list[AuditChange]) -> Counter[tuple[str, str]]:
    """(approver, author) -> how often the approver's approval counted for the author."""
    pairs: Counter[tuple[str, str]] = Counter()
    for change in changes:
        for approver in {a.who for a in change.approvers if a.counted}:
            for author in change.authors:
                if author != approver:
                    pairs[(approver, author)] += 1
    return pairs


def self_merges(changes: list[AuditChange]) -> list[Signal]:
    """Changes landed (merged or pushed) by one of their own authors."""
    own = [c for c in changes if c.merger in c.authors]
    if not own:
        return []
    people = tuple(sorted({c.merger for c in own}))
    return [
        Signal(
            "self-merge",
            f"{len(own)} of {len(changes)} changes were landed by one of "
            f"their authors ({', '.join(people)})",
            people,
            "The person who merged the change also wrote it. Fine with independent "
            "approval; without it, one person decided alone.",
        )
    ]


def reciprocal_pairs(changes: list[AuditChange]) -> list[Signal]:
    """A approves B, and B approves A, repeatedly."""
    pairs = _pairs(changes)
    out = []
    for (a, b), count in sorted(pairs.items()):
        back = pairs.get((b, a), 0)
        if a < b and count >= 2 and back >= 2:
            out.append(
                Signal(
                    "reciprocal-approval",
                    f"{a} approved {b}'s changes {count} times and {b} approved {a}'s {back} times",
                    (a, b),
                    "Two people who mostly review each other can rubber-stamp each "
                    "other's work; look for a third reviewer.",
                )
            )
    return out


def concentration(changes: list[AuditChange]) -> list[Signal]:
    """One person approves most of someone's changes."""
    by_author: defaultdict[str, list[AuditChange]] = defaultdict(list)
    for change in changes:
        for author in change.authors:
            by_author[author].append(change)
    pairs = _pairs(changes)
    out = []
    for author, own in sorted(by_author.items()):
        if len(own) < MIN_CHANGES:
            continue
        for (approver, target), count in sorted(pairs.items()):
            if target == author and count / len(own) >= CONCENTRATION:
                out.append(
                    Signal(
                        "reviewer-concentration",
                        f"{approver} approved {count} of {author}'s {len(own)} changes",
                        (approver, author),
                        "When one reviewer approves nearly everything of one author, "
                        "review depends on a single relationship.",
                    )
                )
    return out


def fast_approvals(changes: list[AuditChange]) -> list[Signal]:
    """Large changes approved only by trailer claims (no signed review time to check)."""
    quick = [
        c
        for c in changes
        if c.files >= FAST_FILES and c.approvers and all(a.trust == "trailer" for a in c.approvers)
    ]
    if not quick:
        return []
    return [
        Signal(
            "unverifiable-approval-of-large-change",
            f"{len(quick)} change(s) touching "
            f">= {FAST_FILES} files were approved only by commit-message claims",
            (),
            "Approval times are unknown for trailer claims, so implausibly fast reviews "
            "cannot be ruled out; signed approvals carry their time.",
        )
    ]


def break_glass_frequency(changes: list[AuditChange]) -> list[Signal]:
    """How often break-glass was used."""
    used = [c for c in changes if c.break_glass]
    if not used or (len(used) / max(len(changes), 1) < BREAK_GLASS_RATE and len(used) < 2):
        return []
    return [
        Signal(
            "break-glass-frequency",
            f"break-glass used {len(used)} time(s) in {len(changes)} changes",
            (),
            "Emergency overrides should be rare; each "
            "stays an open exception until someone else reviews it.",
        )
    ]


_SIGNALS: tuple[Callable[[list[AuditChange]], list[Signal]], ...] = (
    self_merges,
    reciprocal_pairs,
    concentration,
    fast_approvals,
    break_glass_frequency,
)


def probable_self_approvals(
    changes: list[AuditChange], idents: Iterable[tuple[str, str]]
) -> list[Signal]:
    """Counted approvals by an email that probably belongs to one of the change's authors."""
    same: dict[str, set[str]] = {}
    for group in probable_aliases(idents):
        for email in group.emails:
            same.setdefault(email, set()).update(group.emails)
    out = []
    for change in changes:
        authors = set(change.author_emails)
        suspects = sorted(
            {
                a.email
                for a in change.approvers
                if a.counted and a.email and same.get(a.email, set()) & authors
            }
        )
        if suspects:
            out.append(
                Signal(
                    "probable-self-approval",
                    f"{change.commit[:10]} was approved by "
                    f"{', '.join(suspects)}, probably an alias of its author "
                    f"({', '.join(sorted(authors))})",
                    tuple(suspects),
                    "A second email of the author is not independent review. Confirm "
                    "the alias into the policy (or --identities) and re-run.",
                )
            )
    return out


def risk_signals(
    changes: list[AuditChange], idents: Iterable[tuple[str, str]] = ()
) -> list[Signal]:
    """Every signal, in a stable order."""
    signals = [signal for compute in _SIGNALS for signal in compute(changes)]
    return probable_self_approvals(changes, idents) + signals
