"""Shapes alike but for who: one template for a class of changes under the inferred policy.

The fast lane (``_fast``) keeps a template per shape, and a shape names its people: on a
history with 600 people, 10,703 changes had 2,228 shapes, each judged by the engine the first
time, yet only 92 *casts*. A cast is a shape with its people and emails replaced by slot
numbers, kept with the order of its ids and of its emails (every list a row holds is sorted by
one of them). Under the inferred policy every person is alike (the same group, the same rule,
no keys, no agents), so a change's row depends on its people only through these slots.

That is the claim; it is not trusted, it is tried. The first row of a cast gives a candidate:
its lines and signal counters with each person id and email replaced by its slot's mark. The
candidate is used only after it gave exactly the rows the engine gave for further shapes of the
cast, filled in with their people, until every slot has held another value than the
candidate's own in :data:`CONFIRMATIONS` of them (a shared value would not show a mark caught
in fixed text). Before that, it fills in a shape whose people differ from its own only in
slots already confirmed (a slot holding the candidate's own value gives back its own text).
A candidate that fails is replaced by one made from the shape that showed it
wrong, at most :data:`ATTEMPTS` times; then the cast goes the slow way, one shape at a time,
as before. A mark caught in text that is not a person (an id ``deny`` in a verdict) is such
a failure: the text stays in the engine's row while the fill changes it.

Only the inferred policy (``SOURCE``) is recast, and only people it knows by exactly their
email, written in lower case (what the row writes back); anyone else sends the shape the slow
way. ADR 0042 has what was measured.
"""

from __future__ import annotations

__all__ = ["ATTEMPTS", "CONFIRMATIONS", "Cast", "Casting", "Parts", "Recast", "cast_of"]

from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import TYPE_CHECKING

from twokey.audit._default_policy import SOURCE
from twokey.audit._model import RowCounts
from twokey.audit._signals import SignalShape
from twokey.engine import ChangeShape
from twokey.model import Alias

if TYPE_CHECKING:
    from twokey.policy import Policy

CONFIRMATIONS = 2  # rows given back exactly, with another value in each slot, before use
ATTEMPTS = 4  # candidates made for one cast before it goes the slow way for good
_EMAIL = "email:"


@dataclass(frozen=True, slots=True)
class Parts:
    """What a template of the fast lane holds (``_fast.Template``'s fields)."""

    section: int
    public: str  # a ``str.format`` pattern for the change's own ids, subject and time
    extras: str
    counts: RowCounts
    signals: SignalShape


@dataclass(frozen=True, slots=True)
class Cast:
    """A shape's cast: ``key`` is the shape with slots for its people and emails and their
    orders; ``values`` are its person ids then its emails, by slot."""

    key: tuple[object, ...]
    values: tuple[str, ...]


class Casting:
    """Casts of shapes under one policy, its people looked up once per email."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.eligible = policy.source == SOURCE  # only the inferred policy: see the module
        self._ids: dict[str, str | None] = {}  # email -> its person's id, None: not castable

    def cast(self, change: ChangeShape, extra: object) -> Cast | None:
        """The cast of the shape ``(change, extra)``; None when it may not be recast."""
        if not self.eligible:
            return None
        people: dict[str, int] = {}
        emails: dict[str, int] = {}
        idents = []
        for ident in (change.author, change.committer, *change.co_authors):
            email = ident[1]
            pid = self._id(email)
            if pid is None:
                return None
            idents.append(
                (emails.setdefault(email, len(emails)), people.setdefault(pid, len(people)))
            )
        approvals = []
        for signer, trust, source in change.approvals:
            email = signer[len(_EMAIL) :]
            pid = self._id(email) if signer.startswith(_EMAIL) else None
            if pid is None:
                return None
            slot = emails.setdefault(email, len(emails)), people.setdefault(pid, len(people))
            approvals.append((slot, trust, source))
        key = (
            change.repository,
            change.ref,
            change.creates,
            change.paths,
            tuple(idents),
            tuple(approvals),
            extra,
            _order(tuple(people)),
            _order(tuple(emails)),
        )
        return Cast(key, (*people, *emails))

    def _id(self, email: str) -> str | None:
        try:
            return self._ids[email]
        except KeyError:
            found = self._ids[email] = self._lookup(email)
            return found

    def _lookup(self, email: str) -> str | None:
        """The id of the person the inferred policy knows by exactly ``email``, written as
        the row writes it back (lower case, plain); None for anyone else."""
        if not email or email != email.strip().lower() or not _plain(email):
            return None
        principal = self.policy.resolve(Alias.email(email))
        if principal is None or not principal.is_person or principal.directed_by:
            return None
        return principal.id if _plain(principal.id) else None


def cast_of(change: ChangeShape, extra: object, policy: Policy) -> Cast | None:
    """The cast of the shape ``(change, extra)`` under ``policy`` (see :class:`Casting`)."""
    return Casting(policy).cast(change, extra)


class Recast:
    """A cast's candidate template, and how far it has been confirmed."""

    def __init__(self, parts: Parts, values: tuple[str, ...]) -> None:
        self.attempts = 0
        self._start(parts, values)

    def _start(self, parts: Parts, values: tuple[str, ...]) -> None:
        self.values = values  # the cast it was made from
        self.confirmed = [0] * len(values)  # per slot: rows given back with another value in it
        self.attempts += 1
        self.marked = _marked(parts, values)  # None: its values could not be marked

    @property
    def usable(self) -> bool:
        """Confirmed often enough in every slot: any cast of it may be filled in."""
        return self.marked is not None and min(self.confirmed, default=0) >= CONFIRMATIONS

    @property
    def spent(self) -> bool:
        """Failed as often as it may: the cast goes the slow way."""
        return self.attempts >= ATTEMPTS and not self.usable

    def fill(self, values: tuple[str, ...]) -> Parts | None:
        """The template of the shape whose cast has ``values``, when every slot whose value
        differs from the candidate's own is confirmed (a slot with the candidate's own value
        gives back its own text, a mark caught in fixed text included); else None."""
        if self.marked is None or self.spent:
            return None
        for mine, theirs, confirmed in zip(self.values, values, self.confirmed, strict=True):
            if mine != theirs and confirmed < CONFIRMATIONS:
                return None
        return _filled(self.marked, values)

    def study(self, parts: Parts, values: tuple[str, ...]) -> None:
        """Compare with the engine's template ``parts`` for another shape of the cast
        (``values``): when the fill is exact, a confirmation of each slot whose value differs
        (a shared value would not show a mark caught in fixed text); else a new candidate
        from this shape."""
        if self.usable or self.spent:
            return
        if self.marked is None or _filled(self.marked, values) != parts:
            self._start(parts, values)
            return
        for slot, (mine, theirs) in enumerate(zip(self.values, values, strict=True)):
            if mine != theirs:
                self.confirmed[slot] += 1


def _plain(text: str) -> bool:
    """Written as itself in a JSON string and in a ``str.format`` pattern."""
    return encode_basestring(text)[1:-1] == text and "{" not in text and "}" not in text


def _order(values: tuple[str, ...]) -> tuple[int, ...]:
    """The slots in the order their values sort."""
    return tuple(sorted(range(len(values)), key=values.__getitem__))


def _mark(slot: int) -> str:
    # Control characters: a JSON line never holds one raw (json.dumps escapes them).
    return f"\x04{slot}\x05"


def _marked(parts: Parts, values: tuple[str, ...]) -> Parts | None:
    """``parts`` with each of ``values`` replaced by its slot's mark (longest first: an email
    holds its person's id); None when the signals name someone not in ``values``."""
    slots = {value: _mark(n) for n, value in enumerate(values)}
    public, extras = parts.public, parts.extras
    for value in sorted(slots, key=len, reverse=True):
        public = public.replace(value, slots[value])
        extras = extras.replace(value, slots[value])
    signals = _rename(parts.signals, slots)
    if signals is None:
        return None
    return Parts(parts.section, public, extras, parts.counts, signals)


def _filled(marked: Parts, values: tuple[str, ...]) -> Parts | None:
    """``marked`` with each slot's mark replaced by its value in ``values``."""
    public, extras = marked.public, marked.extras
    names = {}
    for n, value in enumerate(values):
        mark = _mark(n)
        public = public.replace(mark, value)
        extras = extras.replace(mark, value)
        names[mark] = value
    signals = _rename(marked.signals, names)
    if signals is None:
        return None
    return Parts(marked.section, public, extras, marked.counts, signals)


def _rename(shape: SignalShape, names: dict[str, str]) -> SignalShape | None:
    """``shape`` with every person id and email renamed by ``names``; None when one is not."""
    try:
        return SignalShape(
            tuple(names[a] for a in shape.authors),
            tuple((names[a], names[b]) for a, b in shape.pairs),
            None if shape.self_merger is None else names[shape.self_merger],
            shape.break_glass,
            tuple((names[a], names[b]) for a, b in shape.email_pairs),
            shape.reviewed,
            shape.self_claimed,
        )
    except KeyError:
        return None
