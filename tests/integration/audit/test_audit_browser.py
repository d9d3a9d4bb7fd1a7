"""The HTML report, opened in Debian's chromium through Playwright: tables and charts render."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CHROMIUM_ARGS
from tests.integration.audit.test_audit import _history
from tests.support.gitrepo import GitRepo
from twokey.audit import AuditOptions, ReportFormat, render, run_audit

pytestmark = pytest.mark.browser


def test_html_report_renders_tables_and_charts(tmp_path: Path, chromium_path: Path) -> None:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    repo = GitRepo.init(tmp_path / "r")
    _history(repo)
    page_file = tmp_path / "audit.html"
    page_file.write_text(render(run_audit(AuditOptions(repo.path)), ReportFormat.HTML))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route(
                "**/*",
                lambda route: (
                    route.abort()
                    if not route.request.url.startswith("file:")
                    else route.continue_()
                ),
            )
            page.goto(page_file.as_uri())
            rows = page.locator("#changes tbody tr")
            assert rows.count() == 6
            assert "deny" in rows.first.inner_text()  # violations first
            charts = page.locator("svg.chart")
            assert charts.count() == 2
            box = charts.first.bounding_box()
            assert box is not None
            assert box["width"] > 100
            assert box["height"] > 100
            assert page.locator("svg.chart polyline").count() == 1
            assert page.locator("svg.chart rect").count() >= 1
            assert page.locator("#sources li").count() >= 4
            assert page.locator("#totals").inner_text().startswith("6")
            page.screenshot(path=str(tmp_path / "audit.png"), full_page=True)
        finally:
            browser.close()
