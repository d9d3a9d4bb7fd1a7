"""The web UI in a real browser (Debian's chromium through Playwright) against ``twokey serve``.

Sign in with a one-time code, see the pending request, read its chain of custody, approve it
as an eligible operator; the author gets no button and a forged post is refused; a post
without the CSRF token is refused; the ledger page verifies an inclusion proof in the page
(and says FAILED for a doctored one); the pages work on a 390x844 screen. Screenshots of the
dashboard and the deploy page go to ``$TWOKEY_ARTIFACTS/ui/`` (default: a temporary folder;
the path is printed).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CHROMIUM_ARGS
from tests.integration.gateway._ui import UiWorld, start_ui_world
from twokey.gateway import GatewayConfig, sign_in_codes
from twokey.gateway._auth import SESSION_COOKIE

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiWorld]:
    world = start_ui_world(tmp_path_factory.mktemp("ui-browser"))
    try:
        yield world
    finally:
        world.gateway.stop()


@pytest.fixture(scope="module")
def shots() -> Path:
    """Where the screenshots go (printed, so a CI run can keep them)."""
    root = os.environ.get("TWOKEY_ARTIFACTS") or tempfile.mkdtemp(prefix="twokey-artifacts-")
    path = Path(root) / "ui"
    path.mkdir(parents=True, exist_ok=True)
    print(f"\nweb UI screenshots in {path}")
    return path


@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


def _context(browser: Any, ui: UiWorld, person: str = "", viewport: Any = None) -> Any:
    """A fresh browser profile; with ``person``, already holding their session cookie."""
    context = browser.new_context(viewport=viewport or DESKTOP)
    if person:
        cookie = {"name": SESSION_COOKIE, "value": ui.session(person), "url": ui.gateway.url}
        context.add_cookies([cookie])
    return context


def _code(ui: UiWorld, person: str) -> str:
    """A one-time browser code, issued as ``twokey login --browser`` gets one."""
    return sign_in_codes(GatewayConfig(data=ui.data, repo=ui.repo), [person])[person]


def test_dave_signs_in_with_a_code_and_sees_the_pending_request(
    browser: Any, ui: UiWorld, shots: Path
) -> None:
    context = _context(browser, ui)
    page = context.new_page()
    page.goto(ui.url("/"))
    assert page.url.endswith("/login")  # no session: sent to sign in
    page.get_by_label("One-time code").fill(_code(ui, "dave"))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(ui.url("/"))
    assert page.get_by_test_id("who").text_content() == "dave"
    waiting = page.get_by_test_id("waiting")
    assert waiting.get_by_role("link", name=ui.requests["ready"]).is_visible()
    assert "demo day" in (page.get_by_test_id("exceptions").text_content() or "")
    page.screenshot(path=str(shots / "dashboard.png"), full_page=True)
    context.close()


def test_a_wrong_code_is_refused_on_the_login_page(browser: Any, ui: UiWorld) -> None:
    context = _context(browser, ui)
    page = context.new_page()
    page.goto(ui.url("/login"))
    page.get_by_label("One-time code").fill("ABCD-EFGH")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/login?error=*")
    assert page.get_by_role("alert").is_visible()
    assert not context.cookies()  # no session
    context.close()


def test_the_author_sees_no_button_and_a_forged_approval_is_refused(
    browser: Any, ui: UiWorld
) -> None:
    context = _context(browser, ui, "alice")
    page = context.new_page()
    deploy = ui.requests["ready"]
    page.goto(ui.url(f"/deploys/{deploy}"))
    assert page.get_by_role("button", name="Approve deploy").count() == 0
    assert "alice wrote commit" in (page.get_by_test_id("why-not").text_content() or "")
    csrf = page.locator('input[name="csrf"]').first.get_attribute("value")
    forged = page.request.post(
        ui.url(f"/deploys/{deploy}/approve"), form={"csrf": csrf or ""}, max_redirects=0
    )
    assert forged.status == 403
    assert "Refused: alice wrote commit" in forged.text()
    context.close()


def test_a_post_without_the_csrf_token_is_refused(browser: Any, ui: UiWorld) -> None:
    context = _context(browser, ui, "dave")
    page = context.new_page()
    page.goto(ui.url("/"))
    answer = page.request.post(
        ui.url(f"/deploys/{ui.requests['ready']}/approve"), form={}, max_redirects=0
    )
    assert answer.status == 403
    assert "CSRF" in answer.json()["error"]
    context.close()


def test_dave_reads_the_timeline_and_approves(browser: Any, ui: UiWorld, shots: Path) -> None:
    context = _context(browser, ui, "dave")
    page = context.new_page()
    page.goto(ui.url("/"))
    page.get_by_test_id("waiting").get_by_role("link", name=ui.requests["ready"]).click()
    page.wait_for_url(ui.url(f"/deploys/{ui.requests['ready']}"))
    timeline = page.get_by_test_id("timeline")
    stages = timeline.locator("li.stage h3").all_text_contents()
    assert [s.split()[0] for s in stages] == [
        "Commits",
        "Approvals",
        "Checks",
        "Build",
        "Deploy",
        "Deploy",
        "Decision",
        "Deploy",
    ]
    text = timeline.text_content() or ""
    assert "Add checkout" in text
    assert "approved by bob" in text
    assert "by ci" in text
    page.screenshot(path=str(shots / "deploy.png"), full_page=True)
    page.get_by_role("button", name="Approve deploy").click()
    page.wait_for_load_state()
    assert page.locator("h1 .state").text_content() == "authorized"
    assert "approved by dave" in (timeline.text_content() or "")
    page.screenshot(path=str(shots / "deploy-approved.png"), full_page=True)
    context.close()


def test_the_ledger_page_verifies_an_inclusion_proof(browser: Any, ui: UiWorld) -> None:
    context = _context(browser, ui, "dave")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(ui.url("/ledger?entry=3"))
    result = page.locator('#proof-result[data-state="verified"]')
    result.wait_for(timeout=10_000)
    assert "Verified: entry 3 is in the log" in (result.text_content() or "")
    assert "signed checkpoint" in (result.text_content() or "")
    assert not errors  # no CSP violation, no script error
    context.close()


def test_a_doctored_proof_fails_in_the_page(browser: Any, ui: UiWorld) -> None:
    """The check really recomputes: the same page with one proof hash changed says FAILED."""
    context = _context(browser, ui, "dave")
    page = context.new_page()

    def doctor(route: Any) -> None:
        answer = route.fetch()
        html = answer.text()
        start = html.index('id="proof-data">') + len('id="proof-data">')
        end = html.index("</script>", start)
        proof = json.loads(html[start:end])
        first = proof["proof"][0]
        proof["proof"][0] = ("0" if first[0] != "0" else "1") + first[1:]
        route.fulfill(response=answer, body=html[:start] + json.dumps(proof) + html[end:])

    page.route("**/ledger?entry=3", doctor)
    page.goto(ui.url("/ledger?entry=3"))
    result = page.locator('#proof-result[data-state="failed"]')
    result.wait_for(timeout=10_000)
    assert "FAILED" in (result.text_content() or "")
    context.close()


def test_the_pages_fit_a_phone_and_the_keyboard_reaches_them(
    browser: Any, ui: UiWorld, shots: Path
) -> None:
    context = _context(browser, ui, "carol", PHONE)
    page = context.new_page()
    for path, name in (
        ("/", "dashboard-phone"),
        (f"/deploys/{ui.requests['laptop']}", "deploy-phone"),
    ):
        page.goto(ui.url(path))
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} scrolls sideways ({width} px)"
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    for path in ("/ledger?entry=1", "/policy", "/deploys"):
        page.goto(ui.url(path))
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
    page.goto(ui.url("/"))
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to content"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")  # focus is visible
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    context.close()


# The contrast ratio (WCAG 2.x) of every element's own text against the background it sits on.
_CONTRAST = """() => {
  const lum = (rgb) => {
    const [r, g, b] = rgb.map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = parse(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const worst = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.offsetParent === null) continue;
    const fg = lum(parse(getComputedStyle(el).color).slice(0, 3)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const what = el.tagName + " " + el.textContent.trim().slice(0, 30);
    if (!(ratio >= 4.5)) worst.push(what + " " + ratio.toFixed(2));
  }
  return worst;
}"""


def test_every_text_has_enough_contrast(browser: Any, ui: UiWorld) -> None:
    """WCAG AA (4.5:1) for every piece of text on every page, the login page included."""
    context = _context(browser, ui, "erin")
    page = context.new_page()
    paths = ["/", "/deploys", f"/deploys/{ui.requests['laptop']}", "/ledger?entry=2", "/policy"]
    for path in paths:
        page.goto(ui.url(path))
        assert page.evaluate(_CONTRAST) == [], path
    page.evaluate("document.querySelector('h1').style.color = '#aaaaaa'")
    assert page.evaluate(_CONTRAST)  # the check itself can fail
    context.close()
    anonymous = _context(browser, ui)
    login = anonymous.new_page()
    login.goto(ui.url("/login?error=expired"))
    assert login.evaluate(_CONTRAST) == []
    anonymous.close()
