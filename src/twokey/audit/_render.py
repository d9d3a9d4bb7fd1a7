"""Audit report renderers: text, JSON (stable, docs/audit-json.md), CSV, self-contained HTML.

Every renderer streams the spooled rows to its output, so a report over 200,000 changes is
written without holding them in memory.
"""

from __future__ import annotations

__all__ = [
    "ReportFormat",
    "exception_text",
    "gate_text",
    "is_open",
    "open_exceptions",
    "render",
    "summary_lines",
    "trust_split",
    "write_report",
]

import csv
import enum
import io
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TextIO, assert_never

from twokey._text import printable
from twokey.audit._charts import bar_chart, line_chart
from twokey.audit._model import ApproverRow, AuditChange
from twokey.audit._phrases import (
    exception_text,
    gate_text,
    is_open,
    open_exceptions,
    summary_lines,
    trust_split,
)
from twokey.audit._report import CANONICAL, AuditReport


class ReportFormat(enum.StrEnum):
    """Output formats of ``twokey audit``."""

    TEXT = "text"
    JSON = "json"
    CSV = "csv"
    HTML = "html"


def write_report(
    report: AuditReport, fmt: ReportFormat, out: TextIO, *, every_change: bool = False
) -> None:
    """Write the report in ``fmt`` to ``out``.

    The text report lists exceptions and violations only, after a summary, unless
    ``every_change`` (``--all``); JSON, CSV and HTML always hold every change.
    """
    if fmt is ReportFormat.TEXT:
        _text(report, out, every_change)
    elif fmt is ReportFormat.JSON:
        _json(report, out)
    elif fmt is ReportFormat.CSV:
        _csv(report, out)
    elif fmt is ReportFormat.HTML:
        _html(report, out)
    else:
        assert_never(fmt)


def render(report: AuditReport, fmt: ReportFormat) -> str:
    """The report in ``fmt``, as one string (small reports, tests)."""
    out = io.StringIO()
    write_report(report, fmt, out)
    return out.getvalue()


def _dump(value: Any) -> str:
    return json.dumps(value, **CANONICAL)


def _json(report: AuditReport, out: TextIO) -> None:
    """Canonical JSON: keys sorted at every level, one change per line ("changes" first)."""
    out.write('{"changes": [')
    more = "\n"  # before the first row a newline, before each further row a comma too
    for block in report.spool.public_blocks():
        # a row is one line (JSON text never holds a raw newline): rows are copied in blocks
        out.write(more + block[:-1].replace("\n", ",\n"))
        more = ",\n"
    out.write("\n]")
    for key, value in sorted(report.header().items()):
        out.write(f",\n{json.dumps(key)}: {_dump(value)}")
    out.write("}\n")


def approvers_text(rows: Iterable[ApproverRow], person: Callable[[str], str] = str) -> str:
    """``bob (trailer:Reviewed-by, trailer); carol (twokey evidence ref, signed, not counted)``."""
    return "; ".join(
        f"{person(a.who)} ({a.source}, {a.trust}{'' if a.counted else ', not counted'})"
        for a in rows
    )


def _text(report: AuditReport, out: TextIO, every_change: bool = False) -> None:
    if out.isatty():
        from twokey.audit._text import rich_report  # noqa: PLC0415 - rich only on a terminal

        rich_report(report, out, every_change)
        return
    # Every line is escaped on its own: subjects, names and reasons are whoever pushed them,
    # and a newline or an escape sequence in one must not forge a line of the report.
    out.writelines(f"{printable(line)}\n" for line in _text_lines(report, every_change))


def _text_lines(report: AuditReport, every_change: bool = False) -> Iterator[str]:
    s = report.summary()
    rate = f"{s['reviewed_rate']:.0%}" if s["reviewed_rate"] is not None else "n/a"
    yield (
        f"audit of {report.title} {report.ref}: {s['changes']} changes, "
        f"{s['violations']} violations, reviewed {rate} ({trust_split(s)}), "
        f"break-glass {s['break_glass']}, "
        f"open exceptions {open_exceptions(report)}{gate_text(report)}"
    )
    yield from summary_lines(report, every_change)
    yield from (exception_text(e) for e in report.exceptions)
    person = report.person
    for change in report.ordered() if every_change else report.flagged():
        mark = "DENY " if change.violation else "allow"
        glass = " [BREAK-GLASS]" if change.break_glass else ""
        yield f"{mark} {change.commit[:10]} {change.time[:10]} {change.subject[:60]}{glass}"
        yield (
            f"      authors: {', '.join(map(person, change.authors))}; approvers: "
            f"{approvers_text(change.approvers, person) or 'none'}; merged by "
            f"{person(change.merger)}; deployed by {change.deployer or 'unknown'}"
        )
        yield from (f"      {code}: {message}" for code, message in change.findings)
        yield from (f"      {r.describe()}" for r in change.resolutions)
    if report.signals:
        yield "risk signals (never change a verdict):"
        yield from (f"  {sig.kind}: {sig.message}" for sig in report.signals)
    yield from (f"source: {source}" for source in report.sources)


CSV_COLUMNS = (
    "commit",
    "time",
    "subject",
    "kind",
    "authors",
    "approvers",
    "merger",
    "deployer",
    "verdict",
    "gate",
    "break_glass",
    "findings",
)


def _csv(report: AuditReport, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for c in report.ordered():
        writer.writerow(
            [
                c.commit,
                c.time,
                c.subject,
                c.kind,
                " ".join(c.authors),
                approvers_text(c.approvers),
                c.merger,
                c.deployer or "",
                c.verdict,
                c.gate or "",
                str(c.break_glass).lower(),
                " | ".join(f"{k}: {m}" for k, m in c.findings),
            ]
        )


def _html(report: AuditReport, out: TextIO) -> None:
    from jinja2 import Environment, PackageLoader  # noqa: PLC0415 - only for HTML

    env = Environment(loader=PackageLoader("twokey.audit", "templates"), autoescape=True)
    summary = report.summary()
    months = summary["by_month"]
    rate_points = [
        (m, (v["reviewed"] / v["changes"]) if v["changes"] else 0.0) for m, v in months.items()
    ]
    stream = env.get_template("report.html.j2").generate(
        report=report,
        summary=summary,
        changes=html_rows(report.ordered()),
        rate_chart=line_chart(rate_points, "Reviewed-change rate by month"),
        finding_chart=bar_chart(
            sorted(summary["violations_by_finding"].items(), key=lambda kv: (-kv[1], kv[0])),
            "Violations by kind (findings of denied changes)",
        ),
    )
    for piece in stream:
        out.write(piece)


_HTML_CACHED = 4096  # escaped fragments remembered per report (memory stays bounded)


def html_rows(changes: Iterable[AuditChange]) -> Iterator[str]:
    """The rows of the HTML report's table of changes, each as the report's template wrote it
    with Jinja (autoescape: every value through ``markupsafe.escape``), as ``Markup``.

    Jinja's loop took ~40 % of an HTML report of 10,000 changes (~30 pieces and attribute
    look-ups a row); the markup is the template's, byte for byte (a hypothesis test renders
    random rows both ways: ``tests/unit/audit/test_html_rows.py``).
    """
    from markupsafe import Markup, escape  # noqa: PLC0415 - only for HTML

    def e(value: object) -> str:
        return str(escape(value))

    def approvers_html(approvers: tuple[ApproverRow, ...]) -> str:
        return "<br>".join(
            f"{e(a.who)} <small>({e(a.trust)}, {e(a.source)}"
            f"{f', {e(a.time[:16])}' if a.time else ''}"
            f"{'' if a.counted else ', not counted'})</small>"
            for a in approvers
        )

    def findings_html(findings: tuple[tuple[str, str], ...]) -> str:
        found = "".join(f"<li><b>{e(code)}</b>: {e(message)}</li>" for code, message in findings)
        return f'<ul class="findings">{found}</ul>' if found else ""

    # Rows repeat their people and findings: each fragment escaped once (bounded caches).
    names: dict[str, str] = {}
    authors_of: dict[tuple[str, ...], str] = {}
    approvers_of: dict[tuple[ApproverRow, ...], str] = {}
    findings_of: dict[tuple[tuple[str, str], ...], str] = {}

    def cached(cache: dict[Any, str], key: Any, make: Callable[[Any], str]) -> str:
        found = cache.get(key)
        if found is None:
            if len(cache) >= _HTML_CACHED:
                cache.clear()
            found = cache[key] = make(key)
        return found

    for c in changes:
        approvers = cached(approvers_of, c.approvers, approvers_html)
        findings = cached(findings_of, c.findings, findings_html)
        resolutions = "".join(
            f'<p class="resolution" data-lines="{e(r.lines)}" data-outside="{e(len(r.outside))}">'
            f"{e(r.describe())}</p>"
            for r in c.resolutions
        )
        glass = " glass" if c.break_glass else ""
        verdict = cached(names, c.verdict, e)
        yield Markup(  # noqa: S704 - every value in it went through escape() above
            f'\n<tr class="{"deny" if c.violation else "allow"}{glass}">\n'
            f'  <td class="verdict">{"BREAK-GLASS " if c.break_glass else ""}{verdict}</td>\n'
            f"  <td><code>{e(c.commit[:10])}</code> {e(c.subject)}</td>\n"
            f"  <td>{e(c.time[:16])}</td>\n"
            f"  <td>{cached(authors_of, c.authors, lambda a: e(', '.join(a)))}</td>\n"
            f"  <td>{approvers or 'none'}</td>\n"
            f"  <td>{cached(names, c.merger, e)}</td>\n"
            f"  <td>{cached(names, c.deployer or 'unknown', e)}</td>\n"
            f"  <td>{cached(names, c.gate or 'not recorded', e)}</td>\n"
            f"  <td>{findings}{resolutions}</td>\n"
            "</tr>\n"
        )
