"""The audit's fast lane: a change shaped like one judged before is written from a template.

Most of a long history is a few people committing one change each, reviewed by trailer. Such a
change is *simple*: one non-merge commit whose only evidence is its own trailers (no signed
evidence, ledger record or deploy names its id or tree). What the engine reads of it is its
:class:`~twokey.engine.ChangeShape` (``twokey.engine.shape_of``; property-tested there: one
shape, one decision with the ids renamed). Its report row depends on that shape and on the
deploys in effect, besides its own id, tree, parent, time and subject.

The first change of a shape goes the slow way: the gate's engine, the row, the spool lines.
Those lines, with the change's own values replaced by numbered fields, become the shape's
template; later changes of the shape fill it in and count their totals in a tally. A template
is kept only if filling it with the values of the change it came from gives exactly the lines
the slow way wrote. The shape of a record is read once per distinct author, committer,
trailers, root-ness and paths, by the walk's own builders (``build_change``,
``claimed_approvals``) and ``shape_of``, so the lane cannot read a change differently from
the walk. ``tests/integration/audit`` compares whole reports with the fast lane and without it.
"""

from __future__ import annotations

__all__ = ["FastLane", "Shape", "Template", "kept_key"]

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring  # a JSON string as json.dumps writes it
from typing import TYPE_CHECKING, Any

from twokey.audit._changes import (
    REVIEW_TRAILERS,
    build_change,
    claimed_approvals,
    counts_applied,
)
from twokey.audit._model import RowCounts, Totals
from twokey.audit._recast import Casting, Parts, Recast
from twokey.audit._report import Spool, dict_lines
from twokey.audit._signals import SignalShape, SignalStats
from twokey.engine import ChangeShape, shape_of
from twokey.git import Record, commit_of, last_paragraph, paragraph_trailers
from twokey.model import ZERO_SHA, Approval, Commit, RefUpdateFacts
from twokey.policy import Policy

if TYPE_CHECKING:
    from twokey.audit._walk import Judged

MAX_TEMPLATES = 4096  # shapes remembered (memory bounded whatever the history)
MAX_TALLY = 65536  # (template, month) counts held before they are added to the totals
MAX_CACHED = 4096  # trailer paragraphs, and days, remembered
_SHORT = 7  # the engine's short ids
_KEPT = REVIEW_TRAILERS | {"co-authored-by"}  # the trailers a row depends on
# A trailer line (``paragraph_trailers``' pattern, one line of a paragraph) whose key is none
# of _KEPT: one trailer line that is none either stands for it in a paragraph's cache key.
# Keys are matched letter by letter in ASCII (a case-insensitive pattern would fold U+212A
# into "k").
_KEPT_KEYS = "|".join(
    "".join(f"[{c.upper()}{c}]" if c.isalpha() else re.escape(c) for c in key)
    for key in sorted(_KEPT)
)
_OTHER_TRAILER = re.compile(
    rf"^(?!(?:{_KEPT_KEYS})[^\S\n]*:)[A-Za-z0-9][A-Za-z0-9-]*[^\S\n]*:.*$", re.MULTILINE
)
# Line breaks str.splitlines knows besides "\n" (the non-ASCII ones are ruled out apart).
_OTHER_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e]")

# A template's fields, in the order Template.fill takes them.
_FIELDS = ("commit", "subject", "time", "old", "tree", "commit7", "old7", "tree7")
# Placeholders while a template is made: control characters, never in an id or a time
# (JSON writes them as \u0002 ... \u0003, so they are found again in the encoded lines).
_MARKS = {name: f"\x02{n}\x03" for n, name in enumerate(_FIELDS)}

# What a row depends on besides its own values: the engine's shape of the change, and the
# walk's own state (the deploys in effect).
Shape = tuple[ChangeShape, object]
# A record's author, email, committer name, committer email, review and co-author trailers,
# root-ness and paths: everything its ChangeShape is read from.
_Reading = tuple[object, ...]
_Trailers = tuple[tuple[str, str], ...]
_NO_TIME = datetime(1970, 1, 1, tzinfo=UTC)  # shapes hold no times; a broken date is fine
_ISO_LENGTH = 25
# From the "T" on: a time of day and a UTC offset under a day, not git's -00:00 ("unknown").
_ISO_TIME = re.compile(r"T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?!-00:00)[+-](?:[01]\d|2[0-3]):[0-5]\d")


@dataclass(frozen=True, slots=True, eq=False)  # compared and hashed by identity: fast
class Template:
    """The spool lines of one shape: ``public`` has ``str.format`` fields ``{0}`` .. ``{7}``
    (_FIELDS); ``extras`` (emails) is the same for every change of the shape."""

    section: int
    public: str
    extras: str
    counts: RowCounts
    signals: SignalShape


class FastLane:
    """Templates by shape, and the tally of rows written from them (see the module)."""

    def __init__(
        self,
        special: set[str],
        policy: Policy,
        totals: Totals,
        stats: SignalStats,
        repository: str,
        ref: str,
        people: Callable[[Commit], Policy] | None = None,
    ) -> None:
        self.special = special  # ids and trees some evidence, record or deploy names
        self.repository = repository  # the walk's: a change's shape names them
        self.ref = ref
        self.policy = policy  # the templates hold rows judged under this policy
        self.applied = counts_applied(policy, ref)  # shapes read with applied evidence
        self.totals = totals  # where tallied rows are counted (at flush)
        self.stats = stats  # and their signals (examples are named as rows are written)
        self.templates: dict[Shape, Template] = {}
        # Templates by cast (``_recast``), when ``people`` learns a change's people as the
        # walk's judging would (then returns the policy): None sends every new shape the slow way.
        self.people = people
        self.casts: dict[tuple[object, ...], Recast] = {}
        self.casting = Casting(policy)
        self.recast = 0  # shapes whose template was filled in from their cast's
        self.tally: Counter[tuple[Template, str]] = Counter()
        self.examples: set[Template] = set()  # templates whose signals still want examples
        self.paragraphs: dict[str, _Trailers] = {}  # kept_key(paragraph) -> kept trailers
        self.shapes: dict[_Reading, ChangeShape | None] = {}  # how records read
        self.days: dict[str, bool] = {}  # day and offset -> a valid date
        self.hits = 0
        self.missed: Shape | None = None  # the shape write() found no template for
        # The last record _shape read: its commit, and its claims of review as read with
        # counts_applied() ``applied`` (then ``claimed_approvals`` of the commit).
        self.read: tuple[Record, Commit, bool, list[Approval]] | None = None

    def write(self, record: Record, extra: object, policy: Policy, spool: Spool) -> bool:
        """Write the row of a simple change from its shape's template.

        False when the change must go the slow way: not simple, or the first of its shape
        (then :meth:`learn` takes its row). ``extra`` is the walk's own state the row depends
        on (the deploys in effect); ``policy`` the walk's policy now. The audit's hot loop.
        """
        self.missed = None
        head, tree, parent, _, _, _, _, _, committed, message = record[0]
        commit = head[1:]
        if " " in parent or commit in self.special or tree in self.special:
            return False  # a merge, or a change with evidence beyond its trailers
        if policy is not self.policy:  # the default policy grew: rows may differ now
            self._forget(policy)
        change = self.shape(record)
        if change is None:
            return False
        shape = (change, extra)
        template = self.templates.get(shape)
        if template is None:
            template = self._from_cast(shape, record)
            if template is None:
                self.missed = shape
                return False
        if not self._iso(committed):
            return False
        old = parent or ZERO_SHA
        subject = encode_basestring(message.split("\n", 1)[0])
        public = template.public.format(
            commit, subject, committed, old, tree, commit[:_SHORT], old[:_SHORT], tree[:_SHORT]
        )
        spool.write(template.section, public, template.extras)
        self.tally[template, committed[:7]] += 1  # the month of the time
        self.hits += 1
        if template in self.examples and not self.stats.example(commit, template.signals):
            self.examples.discard(template)
        if len(self.tally) >= MAX_TALLY:
            self.flush()
        return True

    def learn(
        self,
        record: Record,
        judged: Judged,
        public: dict[str, Any],
        policy: Policy,
        lines: tuple[str, str],
    ) -> None:
        """Make a template from the row the slow way judged for ``record`` (``judged``) and
        wrote as ``lines`` (``dict_lines(public, row.spool_extras())``, ``public`` the row's
        ``to_dict()``).

        Only after :meth:`write` returned False for ``record`` as the first of its shape.
        """
        shape, self.missed = self.missed, None
        if shape is None:
            return  # not simple
        if policy is not self.policy:  # judging it grew the default policy
            self._forget(policy)
        values = self._values(record)
        if values is None or len({v[:_SHORT] for v in (values[0], values[3], values[4])}) != 3:
            return  # a broken date, or two ids alike in short: the slow way stays
        template = _template(judged, public, values, lines)
        if template is None:
            return
        self._keep(shape, template)
        cast = self.casting.cast(*shape) if self.people is not None else None
        if cast is not None:
            t = template
            parts = Parts(t.section, t.public, t.extras, t.counts, t.signals)
            known = self.casts.get(cast.key)
            if known is not None:
                known.study(parts, cast.values)
            else:
                if len(self.casts) >= MAX_TEMPLATES:
                    self.casts.clear()
                self.casts[cast.key] = Recast(parts, cast.values)

    def _keep(self, shape: Shape, template: Template) -> None:
        if len(self.templates) >= MAX_TEMPLATES:
            self.templates.clear()
        self.templates[shape] = template
        self.examples.add(template)

    def _from_cast(self, shape: Shape, record: Record) -> Template | None:
        """The template of a new ``shape`` filled in from its cast's, when that is confirmed
        (``_recast``), once the change's people are learnt as judging it would learn them."""
        if self.people is None or not self.casts:
            return None
        cast = self.casting.cast(*shape)
        known = self.casts.get(cast.key) if cast is not None else None
        parts = known.fill(cast.values) if cast is not None and known is not None else None
        if parts is None:
            return None
        policy = self.people(self.commit(record))
        if policy is not self.policy:  # someone new: the default policy grew
            self._forget(policy)
            return None
        template = Template(parts.section, parts.public, parts.extras, parts.counts, parts.signals)
        self._keep(shape, template)
        self.recast += 1
        return template

    def commit(self, record: Record) -> Commit:
        """``commit_of(record)``: the one :meth:`write` just read the shape from, when it did
        (a record whose shape is read for the first time is then judged the slow way)."""
        read = self.read
        return read[1] if read is not None and read[0] is record else commit_of(record)

    def claimed(self, record: Record) -> tuple[bool, list[Approval]] | None:
        """``(applied, claimed_approvals(commit, ..., applied=applied))`` of the commit
        :meth:`commit` gives for ``record``, as :meth:`write` just read them, when its
        committer time is known (the walk's time of the claims then); else None."""
        read = self.read
        if read is None or read[0] is not record or read[1].committer.time is None:
            return None
        return read[2], read[3]

    def flush(self) -> None:
        """Add the tallied rows to the totals and signal counters (call once the walk ends)."""
        for (template, month), times in self.tally.items():
            self.totals.count(month, template.counts, times)
            self.stats.count(template.signals, times)
        self.tally.clear()

    def _forget(self, policy: Policy) -> None:
        self.templates.clear()
        self.casts.clear()
        self.casting = Casting(policy)
        self.examples.clear()
        self.policy = policy
        applied = counts_applied(policy, self.ref)
        if applied != self.applied:  # records read differently now
            self.shapes.clear()
            self.applied = applied

    def shape(self, record: Record) -> ChangeShape | None:
        """What the engine reads of the change of ``record`` (a non-merge commit); None when
        it is not simple. Read once per distinct reading of a record (see the module)."""
        fields, paths = record
        _, _, parent, author, email, _, name, address, _, message = fields
        paragraph, kept = self._kept(message)
        reading = (author, email, name, address, kept, not parent, *paths)
        found = self.shapes.get(reading)
        if found is None and reading not in self.shapes:
            found = self._shape(reading, record, paragraph)
        return found

    def _shape(
        self, reading: _Reading, record: Record, paragraph: str | None
    ) -> ChangeShape | None:
        """What the engine reads of ``record``'s change (whose message's last paragraph is
        ``paragraph``), built as the walk builds its facts."""
        trailers = paragraph_trailers(paragraph) if paragraph is not None else ()
        commit = commit_of(record, trailers)
        change, _ = build_change(None, commit, self.repository, self.ref, None)
        when = commit.committer.time or _NO_TIME
        approvals = claimed_approvals(commit, self.repository, self.ref, when, applied=self.applied)
        self.read = (record, commit, self.applied, approvals)
        found = shape_of(RefUpdateFacts(change, tuple(approvals)))
        if len(self.shapes) >= MAX_CACHED:
            self.shapes.clear()
        self.shapes[reading] = found
        return found

    def _values(self, record: Record) -> tuple[str, ...] | None:
        """A record's template fields (_FIELDS), or None when its date is not one git writes."""
        fields = record[0]
        commit, tree, parent, committed = fields[0][1:], fields[1], fields[2], fields[8]
        if not self._iso(committed):
            return None
        old = parent or ZERO_SHA
        subject = encode_basestring(fields[9].split("\n", 1)[0])
        short = _SHORT
        return (commit, subject, committed, old, tree, commit[:short], old[:short], tree[:short])

    def _iso(self, text: str) -> bool:
        """True when ``text`` is a time the slow way writes back unchanged (its row's time).

        git's ``%cI`` is ``YYYY-MM-DDTHH:MM:SS+HH:MM``: valid when its time of day and offset
        match the pattern and its day is a real one (checked once per day and offset).
        """
        if len(text) != _ISO_LENGTH or not _ISO_TIME.fullmatch(text, 10):
            return False
        day = text[:10] + text[19:]
        ok = self.days.get(day)
        if ok is None:
            sample = f"{text[:10]}T00:00:00{text[19:]}"
            try:
                ok = datetime.fromisoformat(sample).isoformat() == sample
            except ValueError:
                ok = False
            if len(self.days) >= MAX_CACHED:
                self.days.clear()
            self.days[day] = ok
        return ok

    def _kept(self, message: str) -> tuple[str | None, _Trailers]:
        """The last paragraph of ``message`` when it may hold trailers (``parse_trailers``
        reads it), and its review and co-author trailers (what a row depends on).

        Remembered by the paragraph with its other trailers made alike
        (:func:`kept_key`): every Gerrit paragraph is unique by its ``Change-Id`` and
        ``Reviewed-on``, and neither is one a row depends on.
        """
        paragraph = last_paragraph(message) if ":" in message else None
        if paragraph is None or ":" not in paragraph:
            return None, ()  # parse_trailers: no paragraph, or no line of it a trailer
        key = kept_key(paragraph)
        kept = self.paragraphs.get(key)
        if kept is None:
            kept = tuple(t for t in paragraph_trailers(paragraph) if t[0].lower() in _KEPT)
            if len(self.paragraphs) >= MAX_CACHED:
                self.paragraphs.clear()
            self.paragraphs[key] = kept
        return paragraph, kept


def kept_key(paragraph: str) -> str:
    """``paragraph`` with each trailer line whose key is not one a row depends on replaced by
    ``X:`` (``Change-Id: I12`` -> ``X:``), another such trailer line: the same lines, the same
    trailer lines and continuation lines, so ``paragraph_trailers`` keeps the same review and
    co-author trailers from it as from ``paragraph`` (hypothesis-tested). A paragraph that is not
    ASCII, or that ``str.splitlines`` would cut elsewhere than at ``\n``, is its own key."""
    if not paragraph.isascii() or _OTHER_BREAKS.search(paragraph):
        return paragraph
    return _OTHER_TRAILER.sub("X:", paragraph)  # no group in the replacement: C all the way


def _template(
    judged: Judged, public: dict[str, Any], values: tuple[str, ...], lines: tuple[str, str]
) -> Template | None:
    """The template of ``judged``'s row, or None when it does not give back the row's own
    ``lines`` (as the slow way wrote them from ``public``, the row's ``to_dict()``)."""
    row = judged.row
    commit, _, _, old, tree, commit7, old7, tree7 = values
    # full ids first: a short id is the start of its full one
    ids = (commit, old, tree, commit7, old7, tree7)
    names = ("commit", "old", "tree", "commit7", "old7", "tree7")
    findings = []
    for code, message in row.findings:
        marked_message = message
        for value, name in zip(ids, names, strict=True):
            marked_message = marked_message.replace(value, _MARKS[name])
        findings.append({"code": code, "message": marked_message})
    # The row's to_dict() with its own values marked: what row_lines writes of the row
    # with those fields replaced (its extras hold none of them).
    marked = {
        **public,
        "commit": _MARKS["commit"],
        "subject": _MARKS["subject"],
        "time": _MARKS["time"],
        "findings": findings,
    }
    marked_public, _ = dict_lines(marked, {})
    public_pattern = _pattern(marked_public)
    if public_pattern.format(*values) != lines[0]:
        return None
    return Template(row.section, public_pattern, lines[1], judged.counts, judged.signals)


def _pattern(line: str) -> str:
    """``line`` as a ``str.format`` pattern: braces doubled, placeholders made fields."""
    pattern = line.replace("{", "{{").replace("}", "}}")
    quoted = encode_basestring(_MARKS["subject"])  # the subject's field: the whole JSON string
    pattern = pattern.replace(quoted, "{1}")
    for n, name in enumerate(_FIELDS):
        pattern = pattern.replace(encode_basestring(_MARKS[name])[1:-1], f"{{{n}}}")
    return pattern
