"""Audit report renderers: text, JSON (stable, docs/audit-json.md), CSV, self-contained HTML."""

from __future__ import annotations

__all__ = ["ReportFormat", "render"]

import csv
import enum
import io
import json
from typing import assert_never

from twokey.audit._charts import bar_chart, line_chart
from twokey.audit._model import AuditReport


class ReportFormat(enum.StrEnum):
    """Output formats of ``twokey audit``."""

    TEXT = "text"
    JSON = "json"
    CSV = "csv"
    HTML = "html"


def render(report: AuditReport, fmt: ReportFormat) -> str:
    """The report in ``fmt``."""
    if fmt is ReportFormat.TEXT:
        return _text(report)
    if fmt is ReportFormat.JSON:
        return json.dumps(report.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if fmt is ReportFormat.CSV:
        return _csv(report)
    if fmt is ReportFormat.HTML:
        return _html(report)
    assert_never(fmt)


def _approvers(change_approvers: object) -> str:
    rows = change_approvers if isinstance(change_approvers, tuple) else ()
    return "; ".join(f"{a.who} ({a.trust}{'' if a.counted else ', not counted'})" for a in rows)


def _text(report: AuditReport) -> str:
    s = report.summary()
    rate = f"{s['reviewed_rate']:.0%}" if s["reviewed_rate"] is not None else "n/a"
    lines = [
        f"audit of {report.repository} {report.ref}: {s['changes']} changes, "
        f"{s['violations']} violations, reviewed {rate}, break-glass {s['break_glass']}",
        f"policy: {report.policy['source']} ({report.policy['digest'][:19]})",
    ]
    for change in report.ordered():
        mark = "DENY " if change.violation else "allow"
        glass = " [BREAK-GLASS]" if change.break_glass else ""
        lines.append(f"{mark} {change.commit[:10]} {change.time[:10]} {change.subject[:50]}{glass}")
        lines.append(
            f"      authors: {', '.join(change.authors)}; approvers: "
            f"{_approvers(change.approvers) or 'none'}; merged by {change.merger}"
        )
        lines += [f"      {code}: {message}" for code, message in change.findings]
    if report.signals:
        lines.append("risk signals (do not change verdicts):")
        lines += [f"  {sig.kind}: {sig.message}" for sig in report.signals]
    lines.append("sources: " + " | ".join(report.sources))
    return "\n".join(lines) + "\n"


def _csv(report: AuditReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "commit",
            "time",
            "subject",
            "kind",
            "authors",
            "approvers",
            "merger",
            "deployer",
            "verdict",
            "break_glass",
            "findings",
        ]
    )
    for c in report.ordered():
        writer.writerow(
            [
                c.commit,
                c.time,
                c.subject,
                c.kind,
                " ".join(c.authors),
                _approvers(c.approvers),
                c.merger,
                c.deployer or "",
                c.verdict,
                str(c.break_glass).lower(),
                " | ".join(f"{k}: {m}" for k, m in c.findings),
            ]
        )
    return out.getvalue()


def _html(report: AuditReport) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape  # noqa: PLC0415

    env = Environment(
        loader=PackageLoader("twokey.audit", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    summary = report.summary()
    months = summary["by_month"]
    rate_points = [
        (m, (v["reviewed"] / v["changes"]) if v["changes"] else 0.0) for m, v in months.items()
    ]
    return env.get_template("report.html.j2").render(
        report=report,
        summary=summary,
        changes=report.ordered(),
        rate_chart=line_chart(rate_points, "Reviewed-change rate by month"),
        finding_chart=bar_chart(
            sorted(summary["by_finding"].items(), key=lambda kv: -kv[1]),
            "Violations and warnings by kind",
        ),
    )
