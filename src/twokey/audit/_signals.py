"""Risk signals no forge reports. Each is explained in the report; none changes a verdict.

:class:`SignalStats` keeps small counters while the changes stream past (bounded by the number
of people, never by the length of history); each signal is then a small pure function over
those counters with a named threshold and an explanation.
"""

from __future__ import annotations

__all__ = [
    "BREAK_GLASS_RATE",
    "CONCENTRATION",
    "FAST_LINES_PER_MINUTE",
    "FAST_MIN_LINES",
    "MIN_CHANGES",
    "SignalShape",
    "SignalStats",
    "TimedApproval",
    "implausibly_fast",
    "risk_signals",
]

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from twokey.audit._identities import probable_aliases
from twokey.audit._model import AuditChange, Signal, strongest_trust

MIN_CHANGES = 4  # below this many changes by an author, patterns are noise
CONCENTRATION = 0.8  # one reviewer approving >= 80% of an author's changes
RECIPROCAL_MIN = 2  # each direction at least this often
FAST_LINES_PER_MINUTE = 200  # faster than this is not reading (a generous reading speed)
FAST_MIN_LINES = 50  # small changes can be approved at a glance
BREAK_GLASS_RATE = 0.05  # more than 1 in 20 changes by emergency override
EXAMPLES = 5  # commits named per signal


@dataclass(frozen=True)
class TimedApproval:
    """A counted approval whose time is known, against the change it approved."""

    who: str
    seconds: float  # from the approved content's commit time to the approval
    lines: int  # lines added plus removed by the change


def implausibly_fast(seconds: float, lines: int) -> bool:
    """True when ``lines`` changed lines were approved too fast to have been read.

    An approval dated before its content was committed is implausible at any size.
    """
    if seconds < 0:
        return True
    if lines < FAST_MIN_LINES:
        return False
    return lines / max(seconds / 60, 1 / 60) > FAST_LINES_PER_MINUTE


@dataclass
class SignalStats:
    """Counters the signals are computed from, fed one change at a time."""

    changes: int = 0
    by_author: Counter[str] = field(default_factory=Counter)
    pairs: Counter[tuple[str, str]] = field(default_factory=Counter)  # (approver, author)
    self_merges: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    self_merge_count: Counter[str] = field(default_factory=Counter)
    glass: list[str] = field(default_factory=list)
    glass_count: int = 0
    fast: list[tuple[str, TimedApproval]] = field(default_factory=list)
    fast_count: int = 0
    email_pairs: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    reviewed: int = 0
    self_claims: list[str] = field(default_factory=list)
    self_claim_count: int = 0

    def add(
        self,
        change: AuditChange,
        timed: Iterable[TimedApproval] = (),
        shape: SignalShape | None = None,
    ) -> None:
        """Count one judged change (and its counted approvals with known times); ``shape``:
        ``SignalShape.of(change)`` when the caller has it."""
        shape = SignalShape.of(change) if shape is None else shape
        self.count(shape)
        self.example(change.commit, shape)
        for approval in timed:
            if implausibly_fast(approval.seconds, approval.lines):
                self.fast_count += 1
                if len(self.fast) < EXAMPLES:
                    self.fast.append((change.commit, approval))

    def count(self, shape: SignalShape, times: int = 1) -> None:
        """Count ``times`` changes of one shape (what does not depend on their commit ids)."""
        self.changes += times
        for author in shape.authors:
            self.by_author[author] += times
        for pair in shape.pairs:
            self.pairs[pair] += times
        if shape.self_merger is not None:
            self.self_merge_count[shape.self_merger] += times
        if shape.break_glass:
            self.glass_count += times
        self.reviewed += times if shape.reviewed else 0
        self.self_claim_count += times if shape.self_claimed else 0

    def example(self, commit: str, shape: SignalShape) -> bool:
        """Name ``commit`` as an example of its shape's signals; False once none has room."""
        room = False
        if shape.self_merger is not None:
            room |= _example(self.self_merges[shape.self_merger], commit)
        if shape.break_glass:
            room |= _example(self.glass, commit)
        for pair in shape.email_pairs:
            room |= _example(self.email_pairs.setdefault(pair, []), commit)
        if shape.self_claimed:
            room |= _example(self.self_claims, commit)
        return room


@dataclass(frozen=True, slots=True)
class SignalShape:
    """What the signals count of a change, its commit aside (changes alike share one)."""

    authors: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]  # (approver, author): counted, not the author
    self_merger: str | None  # the merger, when known and one of the authors
    break_glass: bool
    email_pairs: tuple[tuple[str, str], ...]  # (approver email, author email), counted
    reviewed: bool = False
    self_claimed: bool = False  # reviewed only by trailers its own author committed

    @classmethod
    def of(cls, change: AuditChange) -> SignalShape:
        """The shape of one judged change."""
        counted = sorted({a.who for a in change.approvers if a.counted})
        # Who landed a direct commit is unknown without a recorded push (its committer is
        # its author by construction); a merge's committer, or a recorded pusher, is known.
        known = change.kind == "merge" or change.gate is not None
        emails = [
            (row.email, author)
            for row in change.approvers
            if row.counted and row.email
            for author in change.author_emails
            if row.email != author
        ]
        return cls(
            change.authors,
            tuple((a, author) for author in change.authors for a in counted if a != author),
            change.merger if known and change.merger in change.authors else None,
            change.break_glass,
            tuple(emails),
            change.reviewed,
            _self_claimed(change),
        )


def _self_claimed(change: AuditChange) -> bool:
    """Reviewed on trailer claims alone, in a change its own author committed (or pushed).

    A code-review system writes its trailers when it lands the change, as its own committer;
    an author who commits ``Reviewed-by: Bob`` into their own direct push wrote the claim.
    """
    return strongest_trust(change) == "trailer" and change.merger in change.authors


def _example(examples: list[str], commit: str) -> bool:
    """Add ``commit`` to ``examples`` if there is room; True while room is left."""
    if len(examples) < EXAMPLES:
        examples.append(commit)
    return len(examples) < EXAMPLES


def self_merges(stats: SignalStats) -> list[Signal]:
    """Changes landed (merged or pushed) by one of their own authors."""
    total = sum(stats.self_merge_count.values())
    if not total:
        return []
    people = tuple(sorted(stats.self_merge_count))
    commits = tuple(c for p in people for c in stats.self_merges[p])[:EXAMPLES]
    per = ", ".join(f"{p} {stats.self_merge_count[p]}" for p in people)
    return [
        Signal(
            "self-merge",
            f"{total} of {stats.changes} changes were merged (or pushed, as recorded) by one of "
            f"their authors ({per})",
            people,
            "The person who merged or pushed the change also wrote it. Fine with independent "
            "approval; without it, one person decided alone.",
            commits,
        )
    ]


def reciprocal_pairs(stats: SignalStats) -> list[Signal]:
    """A approves B, and B approves A, repeatedly (each way at least RECIPROCAL_MIN times)."""
    out = []
    for (a, b), count in sorted(stats.pairs.items()):
        back = stats.pairs.get((b, a), 0)
        if a < b and count >= RECIPROCAL_MIN and back >= RECIPROCAL_MIN:
            out.append(
                Signal(
                    "reciprocal-approval",
                    f"{a} approved {b}'s changes {count} times and {b} approved {a}'s {back} times",
                    (a, b),
                    "Two people who mostly review each other can rubber-stamp each other's "
                    "work; look for a third reviewer.",
                )
            )
    return out


def concentration(stats: SignalStats) -> list[Signal]:
    """One reviewer approves at least CONCENTRATION of an author's (>= MIN_CHANGES) changes."""
    out = []
    for (approver, author), count in sorted(stats.pairs.items()):
        own = stats.by_author[author]
        if own >= MIN_CHANGES and count / own >= CONCENTRATION:
            out.append(
                Signal(
                    "reviewer-concentration",
                    f"{approver} approved {count} of {author}'s {own} changes",
                    (approver, author),
                    "When one reviewer approves nearly everything of one author, review "
                    "depends on a single relationship.",
                )
            )
    return out


def fast_approvals(stats: SignalStats) -> list[Signal]:
    """Counted approvals faster than FAST_LINES_PER_MINUTE, or dated before their content."""
    if not stats.fast_count:
        return []
    people = tuple(sorted({a.who for _, a in stats.fast}))
    first_commit, first = stats.fast[0]
    return [
        Signal(
            "implausibly-fast-approval",
            f"{stats.fast_count} approval(s) came too fast for the size of the change, e.g. "
            f"{first.who} approved {first.lines} changed lines of {first_commit[:10]} "
            f"{_duration(first.seconds)}",
            people,
            f"More than {FAST_LINES_PER_MINUTE} changed lines a minute (on changes of "
            f"{FAST_MIN_LINES} lines or more), or an approval dated before its content, "
            "suggests the approval was not a review. Only signed and forge approvals carry "
            "their time; trailer claims do not.",
            tuple(c for c, _ in stats.fast),
        )
    ]


def _duration(seconds: float) -> str:
    span = abs(seconds)
    text = f"{span:.0f} s" if span < 120 else f"{span / 60:.0f} min"
    return f"{text} {'before' if seconds < 0 else 'after'} it was committed"


def break_glass_frequency(stats: SignalStats) -> list[Signal]:
    """Break-glass used at all repeatedly, or in more than BREAK_GLASS_RATE of changes."""
    used = stats.glass_count
    if not used or (used / max(stats.changes, 1) <= BREAK_GLASS_RATE and used < 2):
        return []
    return [
        Signal(
            "break-glass-frequency",
            f"break-glass used {used} time(s) in {stats.changes} changes",
            (),
            "Emergency overrides should be rare; each stays an open exception until someone "
            "other than its actor reviews it.",
            tuple(stats.glass),
        )
    ]


def trailer_only_review(stats: SignalStats) -> list[Signal]:
    """Reviews that rest only on trailers the changes' own authors committed (issue 14)."""
    if not stats.self_claim_count:
        return []
    return [
        Signal(
            "self-claimed-trailer-review",
            f"{stats.self_claim_count} of {stats.reviewed} reviewed change(s) rest only on "
            "Reviewed-by/Acked-by trailers their own author committed: no code-review system "
            "recorded them",
            (),
            "A trailer is an unverified claim (trust: trailer). Written by a code-review system "
            "that lands the change (its committer, often with a Reviewed-on: link) it records "
            "a review; written by the author into their own commit it proves nothing. Count "
            "these as unreviewed, or require signed or forge evidence in the policy.",
            tuple(stats.self_claims),
        )
    ]


def probable_self_approvals(stats: SignalStats, idents: Iterable[tuple[str, str]]) -> list[Signal]:
    """Counted approvals by an email that probably belongs to one of the change's authors."""
    same: dict[str, set[str]] = {}
    for group in probable_aliases(idents):
        for email in group.emails:
            same.setdefault(email, set()).update(group.emails)
    out = []
    for (approver, author), commits in sorted(stats.email_pairs.items()):
        if author in same.get(approver, ()):
            out.append(
                Signal(
                    "probable-self-approval",
                    f"{approver} approved changes by {author} (e.g. {commits[0][:10]}); "
                    "the two emails probably belong to one person",
                    (approver, author),
                    "A second email of the author is not independent review. Confirm the "
                    "alias into the policy (or --identities) and re-run.",
                    tuple(commits),
                )
            )
    return out


_SIGNALS: tuple[Callable[[SignalStats], list[Signal]], ...] = (
    self_merges,
    reciprocal_pairs,
    concentration,
    fast_approvals,
    break_glass_frequency,
    trailer_only_review,
)


def risk_signals(stats: SignalStats, idents: Iterable[tuple[str, str]] = ()) -> list[Signal]:
    """Every signal, in a stable order (probable self-approvals first: they matter most)."""
    return probable_self_approvals(stats, idents) + [
        signal for compute in _SIGNALS for signal in compute(stats)
    ]
