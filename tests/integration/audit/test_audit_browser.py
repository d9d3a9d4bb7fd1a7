"""The HTML report, opened in Debian's chromium through Playwright: tables and charts render."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CHROMIUM_ARGS
from tests.integration.audit.support import build_history
from tests.support.gitrepo import GitRepo
from twokey.audit import AuditOptions, ReportFormat, render, run_audit

pytestmark = pytest.mark.browser


def test_html_report_renders_tables_and_charts(tmp_path: Path, chromium_path: Path) -> None:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    repo = GitRepo.init(tmp_path / "r")
    commits = build_history(repo)
    page_file = tmp_path / "audit.html"
    page_file.write_text(render(run_audit(AuditOptions(repo.path)), ReportFormat.HTML))
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_file.as_uri())
            rows = page.locator("#changes tbody tr")
            assert rows.count() == len(commits) == 8
            assert rows.first.locator("td.verdict").inner_text() == "deny"  # violations first
            assert rows.nth(3).locator("td.verdict").inner_text() == "allow"
            assert rows.first.is_visible()
            assert commits["signed"][:10] in rows.first.inner_text()
            charts = page.locator("svg.chart")
            assert charts.count() == 2
            for i in range(2):
                box = charts.nth(i).bounding_box()
                assert box is not None
                assert box["width"] > 300
                assert box["height"] > 40
            assert page.locator("svg.chart polyline").is_visible()
            assert page.locator("svg.chart circle").count() == 2  # two months
            bar = page.locator("svg.chart rect")
            assert bar.count() == 1
            assert bar.is_visible()
            assert page.locator("#months tbody tr").count() == 2
            assert page.locator("#by-finding tbody tr").inner_text().split() == [
                "INSUFFICIENT_APPROVALS",
                "3",
            ]
            assert page.locator("#sources li").count() >= 6
            assert page.locator("#totals").inner_text().split()[:2] == ["8", "changes"]
            assert page.locator("#signals li").count() == 2
            page.emulate_media(media="print")  # the print stylesheet keeps the table
            assert rows.first.is_visible()
            page.screenshot(path=str(tmp_path / "audit.png"), full_page=True)
        finally:
            browser.close()
    assert requests == [page_file.as_uri()]  # self-contained: nothing else fetched
