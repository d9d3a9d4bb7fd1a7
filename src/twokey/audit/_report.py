"""The audit report: rows spooled to temporary files, totals and signals in memory.

Rows go to one spool per report section (exceptions, violations, the rest), in history order
(newest first), so every renderer streams them in report order without sorting and without
holding the history in memory.
"""

from __future__ import annotations

__all__ = [
    "CANONICAL",
    "TEXT_ERRORS",
    "AuditReport",
    "Spool",
    "dict_lines",
    "row_lines",
    "text_errors",
]

import codecs
import functools
import json
import tempfile
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from twokey.audit._model import AuditChange, Signal, Totals

CANONICAL: dict[str, Any] = {
    "sort_keys": True,
    "ensure_ascii": False,
    "separators": (", ", ": "),
}


def _replacement_character(error: UnicodeError) -> tuple[bytes, int]:
    """Each byte git gave that is not UTF-8 (read with ``surrogateescape``) becomes U+FFFD.

    Encoded here: the UTF-8 codec takes a handler's text only when it is ASCII.
    """
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return "\ufffd".encode() * (error.end - error.start), error.end


# The error handler of every text the audit writes (spool, report file, standard output): a
# commit message or name in a legacy encoding must not stop the report.
TEXT_ERRORS = "twokey-replace"


@functools.cache
def text_errors() -> str:
    """:data:`TEXT_ERRORS`, registered with ``codecs`` on first use, not as a side effect of
    importing the audit (a codec error handler is process-wide: only a process that writes an
    audit gets it)."""
    codecs.register_error(TEXT_ERRORS, _replacement_character)
    return TEXT_ERRORS


_SECTIONS = 3  # AuditChange.section: exceptions, violations, the rest
_HOLD = 2048  # lines held per section before they are written (two per row)


class Spool:
    """Rows of a report in temporary files, per section; read back in report order.

    Each section has two files written line for line: the row's canonical JSON (as the JSON
    report prints it, so that report is a copy) and the extras only the audit needs back
    (``AuditChange.spool_extras``).
    """

    def __init__(self) -> None:
        self._public = [_temporary() for _ in range(_SECTIONS)]
        self._extras = [_temporary() for _ in range(_SECTIONS)]
        self._held: list[list[str]] = [[] for _ in range(_SECTIONS)]  # lines not yet written
        self.counts = [0] * _SECTIONS  # rows per section

    def add(self, change: AuditChange) -> None:
        """Append one row to its section."""
        self.write(change.section, *row_lines(change))

    def write(self, section: int, public: str, extras: str) -> None:
        """Append one row's lines (:func:`row_lines`) to ``section``."""
        self.counts[section] += 1
        held = self._held[section]
        held.append(public)
        held.append(extras)
        if len(held) >= _HOLD:
            self._write(section)

    def _write(self, section: int) -> None:
        """Write the held lines of ``section`` (one write per file, not two per row)."""
        held = self._held[section]
        self._public[section].write("".join(held[0::2]))
        self._extras[section].write("".join(held[1::2]))
        held.clear()

    def _drain(self) -> None:
        for section in range(_SECTIONS):
            self._write(section)

    def public_blocks(self, size: int = 1 << 20) -> Generator[str, None, None]:
        """The canonical JSON lines in report order, in blocks of whole lines."""
        self._drain()
        for spool in self._public:
            with _reading(spool):
                while block := spool.read(size):
                    yield block if block.endswith("\n") else block + spool.readline()

    def lines(self, sections: int = _SECTIONS) -> Generator[tuple[str, str], None, None]:
        """(canonical JSON, extras JSON) of each row, exceptions and violations first.

        ``sections``: how many sections, from the first (2: exceptions and violations only).
        """
        self._drain()
        for public, extras in zip(self._public[:sections], self._extras[:sections], strict=True):
            with _reading(public), _reading(extras):
                for line, extra in zip(public, extras, strict=True):
                    yield line.rstrip("\n"), extra.rstrip("\n")

    def rows(self, sections: int = _SECTIONS) -> Generator[AuditChange, None, None]:
        """The spooled rows, exceptions and violations first (``sections``: as in lines)."""
        for public, extras in self.lines(sections):
            # One JSON object of both lines' members (their keys differ: to_dict's and
            # spool_extras'), decoded at once: {**json.loads(public), **json.loads(extras)}.
            yield AuditChange.from_spool(json.loads(f"{public[:-1]},{extras[1:]}"))

    def close(self) -> None:
        """Delete the temporary files."""
        for spool in (*self._public, *self._extras):
            spool.close()


# ``json.dumps(value, **kw)`` is ``json.JSONEncoder(**kw).encode(value)``: the encoders of
# the spool's two lines made once, not once per row (a row the slow way writes).
_CANONICAL = json.JSONEncoder(**CANONICAL)
_EXTRAS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def row_lines(change: AuditChange) -> tuple[str, str]:
    """The spool's two lines for one row: canonical JSON and extras, each ending in a newline."""
    return dict_lines(change.to_dict(), change.spool_extras())


def dict_lines(public: dict[str, Any], extras: dict[str, Any]) -> tuple[str, str]:
    """:func:`row_lines` of a row's ``to_dict()`` and ``spool_extras()``."""
    return f"{_CANONICAL.encode(public)}\n", f"{_EXTRAS.encode(extras)}\n"


def _temporary() -> IO[str]:
    # closed by Spool.close(); a spool outlives any one block
    return tempfile.TemporaryFile("w+", encoding="utf-8", errors=text_errors())


@contextmanager
def _reading(spool: IO[str]) -> Iterator[None]:
    """Read ``spool`` from its start, then go back to its end (rows append), even on error."""
    spool.flush()
    spool.seek(0)
    try:
        yield
    finally:
        spool.seek(0, 2)


@dataclass
class AuditReport:
    """Everything a report renderer needs.

    Attributes:
        repository: the repository id approvals are bound to.
        ref: the audited ref.
        since: the period's start as given (git date), or None.
        until: the period's end as given, or None.
        spool: the judged changes.
        totals: totals by verdict, month and finding.
        sources: a statement of each evidence source used (or not available).
        policy: ``{"source", "digest", "default"}`` of the policy applied.
        signals: risk signals (never change a verdict).
        exceptions: open exceptions besides break-glass changes: deploys by break-glass.
        fast_rows: rows written from a template (``twokey.audit._fast``), for tests and
            benchmarks; the report is the same either way.
        recast_shapes: shapes whose template was filled in from their cast's without the
            engine (``twokey.audit._recast``), for tests and benchmarks.
        path: the repository audited, as a path on this machine (``repository`` is its id,
            often the origin URL, which does not say which copy was read).
    """

    repository: str
    ref: str
    since: str | None
    until: str | None
    spool: Spool
    totals: Totals
    sources: list[str]
    policy: dict[str, Any]
    signals: list[Signal] = field(default_factory=list)
    exceptions: list[dict[str, Any]] = field(default_factory=list)
    fast_rows: int = 0
    recast_shapes: int = 0
    path: str = ""

    def ordered(self) -> Iterator[AuditChange]:
        """Exceptions (break-glass) first, then violations, then the rest; newest first."""
        return self.spool.rows()

    def flagged(self) -> Iterator[AuditChange]:
        """Exceptions (break-glass) and violations only: what a reader must look at."""
        return self.spool.rows(_SECTIONS - 1)

    def person(self, pid: str) -> str:
        """``alice-2 <alice@home.example>`` for an id the audit invented (the inferred default
        policy's people), with the emails it stands for; a policy's own ids as they are."""
        emails = (self.policy.get("people") or {}).get(pid)
        return f"{pid} <{', '.join(emails)}>" if emails else pid

    @property
    def changes(self) -> list[AuditChange]:
        """Every change in report order (in memory: for tests and small reports)."""
        return list(self.ordered())

    def summary(self) -> dict[str, Any]:
        """Totals by verdict, month and finding."""
        return self.totals.to_dict()

    def header(self) -> dict[str, Any]:
        """Every top-level key of the JSON report except ``changes``."""
        return {
            "version": 1,
            "repository": self.repository,
            "path": self.path,
            "ref": self.ref,
            "period": {"since": self.since, "until": self.until},
            "summary": self.summary(),
            "signals": [s.to_dict() for s in self.signals],
            "exceptions": self.exceptions,
            "sources": self.sources,
            "policy": self.policy,
        }

    def to_dict(self) -> dict[str, Any]:
        """The whole JSON report in memory (docs/audit-json.md)."""
        return {**self.header(), "changes": [c.to_dict() for c in self.ordered()]}

    @property
    def title(self) -> str:
        """``/srv/git/shop.git (repository shop)``: which repository, on disk and by id."""
        if not self.path or self.path == self.repository:
            return self.repository
        return f"{self.path} (repository {self.repository})"

    def close(self) -> None:
        """Delete the spool."""
        self.spool.close()
