"""The HTML report, opened in Debian's chromium through Playwright: tables and charts render."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM_ARGS
from tests.integration.audit.support import build_history, policy_file
from tests.support.gitrepo import ALICE, GitRepo
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
            assert page.locator("#signals li").count() == 3
            assert "trailer" in page.locator("#reviewed-trust").inner_text()
            page.emulate_media(media="print")  # the print stylesheet keeps the table
            assert rows.first.is_visible()
            page.screenshot(path=str(tmp_path / "audit.png"), full_page=True)
        finally:
            browser.close()
    assert requests == [page_file.as_uri()]  # self-contained: nothing else fetched


def test_open_exceptions_are_shown_above_the_changes(tmp_path: Path, chromium_path: Path) -> None:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    from twokey.ledger import Entry, EntryKind, open_ledger  # noqa: PLC0415

    repo = GitRepo.init(tmp_path / "r")
    commit = repo.commit({"a.py": "a\n"}, "first", ALICE)
    glass = {"code": "BREAK_GLASS", "message": "break-glass by dave: prod down"}
    body = {
        "door": "deploy-check",
        "environment": "production",
        "commit": commit,
        "deployer": "email:dave@example.com",
        "decision": {"verdict": "allow", "break_glass": True, "findings": [glass]},
    }
    url = f"sqlite://{tmp_path / 'ledger.db'}"
    with open_ledger(url) as ledger:
        ledger.append([Entry(EntryKind.DEPLOY, body, datetime(2026, 11, 27, 21, tzinfo=UTC))])
    report = run_audit(AuditOptions(repo.path, policy=policy_file(tmp_path / "p"), ledger=url))
    page_file = tmp_path / "audit.html"
    page_file.write_text(render(report, ReportFormat.HTML))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(page_file.as_uri())
            row = page.locator("#exceptions tbody tr")
            assert row.count() == 1
            assert row.is_visible()
            cells = row.locator("td").all_inner_texts()
            assert cells[:3] == ["OPEN", "deploy", "production"]
            assert cells[4:] == ["dave", "2026-11-27T21:00", "prod down", "not yet"]
            above = page.locator("#exceptions").bounding_box()
            below = page.locator("#changes").bounding_box()
            assert above is not None
            assert below is not None
            assert above["y"] < below["y"]  # exceptions first
        finally:
            browser.close()
