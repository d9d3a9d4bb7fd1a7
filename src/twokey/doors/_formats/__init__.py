"""Output formats of ``twokey check`` and the hook: one small module per format."""

from __future__ import annotations

__all__ = ["Report", "ReportFormat", "render"]

import enum
from typing import assert_never

from twokey.doors._formats._report import Report
from twokey.doors._formats._text import render_text


class ReportFormat(enum.StrEnum):
    """How a report is printed."""

    TEXT = "text"  # people (the default; also what the hook prints)
    JSON = "json"  # machines; ``twokey explain`` reads it back
    SARIF = "sarif"  # SARIF 2.1.0, for code-scanning UIs
    JUNIT = "junit"  # JUnit XML, for CI test reports
    GITHUB = "github"  # GitHub Actions workflow commands (annotations)


def render(fmt: ReportFormat, report: Report) -> str:
    """``report`` in format ``fmt``."""
    if fmt is ReportFormat.TEXT:
        return render_text(report)
    # The other formats are imported when asked for: the hook prints text (issue 10 item 9).
    if fmt is ReportFormat.JSON:
        from twokey.doors._formats._json import render_json  # noqa: PLC0415

        return render_json(report)
    if fmt is ReportFormat.SARIF:
        from twokey.doors._formats._sarif import render_sarif  # noqa: PLC0415

        return render_sarif(report)
    if fmt is ReportFormat.JUNIT:
        from twokey.doors._formats._junit import render_junit  # noqa: PLC0415

        return render_junit(report)
    if fmt is ReportFormat.GITHUB:
        from twokey.doors._formats._github import render_github  # noqa: PLC0415

        return render_github(report)
    assert_never(fmt)
