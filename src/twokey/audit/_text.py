"""The text report on a terminal: rich tables, violations first."""

from __future__ import annotations

__all__ = ["rich_report"]

from typing import TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from twokey._text import printable as _p
from twokey.audit._phrases import (
    exception_text,
    gate_text,
    open_exceptions,
    summary_lines,
    trust_split,
)
from twokey.audit._report import AuditReport

_STYLE = {"deny": "bold red", "allow": "green"}


def rich_report(report: AuditReport, out: TextIO, every_change: bool = False) -> None:
    """Summary, the changes table (exceptions and violations; every change with
    ``every_change``), signals and sources."""
    console = Console(file=out)
    s = report.summary()
    rate = f"{s['reviewed_rate']:.0%}" if s["reviewed_rate"] is not None else "n/a"
    console.print(
        Text(f"audit of {_p(report.title)} {_p(report.ref)}", style="bold")
        + Text(f": {s['changes']} changes, ")
        + Text(f"{s['violations']} violations", style="red")
        + Text(
            f", reviewed {rate} ({trust_split(s)}), break-glass {s['break_glass']}, "
            f"open exceptions {open_exceptions(report)}{gate_text(report)}"
        ),
        highlight=False,
    )
    for line in summary_lines(report, every_change):
        console.print(Text(_p(line)), highlight=False)
    for exception in report.exceptions:
        console.print(Text(exception_text(exception), style="bold yellow"))
    table = Table("verdict", "change", "time", "authors", "approvers", "merged by", "deployed by")
    table.add_column("findings", overflow="fold")
    person = report.person
    for c in report.ordered() if every_change else report.flagged():
        verdict = ("BREAK-GLASS " if c.break_glass else "") + c.verdict
        approvers = "\n".join(
            _p(f"{person(a.who)} ({a.trust}{'' if a.counted else ', not counted'})")
            for a in c.approvers
        )
        # Text, not markup: subjects and names are the repository's, "[...]" included.
        table.add_row(
            Text(verdict, style=_STYLE[c.verdict]),
            *(
                Text(cell)
                for cell in (
                    _p(f"{c.commit[:10]} {c.subject[:40]}"),
                    _p(c.time[:10]),
                    _p(", ".join(map(person, c.authors))),
                    approvers or "none",
                    _p(person(c.merger)),
                    _p(c.deployer or "unknown"),
                    "\n".join(
                        [_p(f"{code}: {message}") for code, message in c.findings]
                        + [_p(r.describe()) for r in c.resolutions]
                    ),
                )
            ),
        )
    console.print(table)
    for sig in report.signals:
        console.print(Text(sig.kind, style="yellow") + Text(_p(f": {sig.message}")))
    for source in report.sources:
        console.print(Text(_p(f"source: {source}")), highlight=False)
