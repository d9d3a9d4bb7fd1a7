"""The audit report: rows spooled to temporary files, totals and signals in memory.

Rows go to one spool per report section (exceptions, violations, the rest), in history order
(newest first), so every renderer streams them in report order without sorting and without
holding the history in memory.
"""

from __future__ import annotations

__all__ = ["CANONICAL", "AuditReport", "Spool"]

import json
import tempfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from twokey.audit._model import AuditChange, Signal, Totals

CANONICAL: dict[str, Any] = {
    "sort_keys": True,
    "ensure_ascii": False,
    "separators": (", ", ": "),
}
_SECTIONS = 3  # AuditChange.section: exceptions, violations, the rest


class Spool:
    """Rows of a report in temporary files, one per section; read back in report order."""

    def __init__(self) -> None:
        self._files: list[IO[str]] = [
            # closed by close(); a spool outlives any one block
            tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
            for _ in range(_SECTIONS)
        ]

    def add(self, change: AuditChange) -> None:
        """Append one row to its section.

        A line is the row's canonical JSON (as the JSON report prints it), a tab (never raw in
        JSON text), and the extras only the audit needs back (``AuditChange.spool_extras``).
        """
        public = json.dumps(change.to_dict(), **CANONICAL)
        extras = json.dumps(change.spool_extras(), ensure_ascii=False, separators=(",", ":"))
        self._files[change.section].write(f"{public}\t{extras}\n")

    def lines(self) -> Generator[tuple[str, str], None, None]:
        """(canonical JSON, extras JSON) of each row, exceptions and violations first."""
        for spool in self._files:
            spool.flush()
            spool.seek(0)
            try:
                for line in spool:
                    public, _, extras = line.rstrip("\n").partition("\t")
                    yield public, extras
            finally:
                spool.seek(0, 2)  # back to the end, even if the reader stopped: rows append

    def rows(self) -> Generator[AuditChange, None, None]:
        """The spooled rows, exceptions and violations first."""
        for public, extras in self.lines():
            yield AuditChange.from_spool({**json.loads(public), **json.loads(extras)})

    def close(self) -> None:
        """Delete the temporary files."""
        for spool in self._files:
            spool.close()


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

    def ordered(self) -> Iterator[AuditChange]:
        """Exceptions (break-glass) first, then violations, then the rest; newest first."""
        return self.spool.rows()

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
            "ref": self.ref,
            "period": {"since": self.since, "until": self.until},
            "summary": self.summary(),
            "signals": [s.to_dict() for s in self.signals],
            "sources": self.sources,
            "policy": self.policy,
        }

    def to_dict(self) -> dict[str, Any]:
        """The whole JSON report in memory (docs/audit-json.md)."""
        return {**self.header(), "changes": [c.to_dict() for c in self.ordered()]}

    def close(self) -> None:
        """Delete the spool."""
        self.spool.close()
