"""The web UI over real HTTP: every page, who sees which button, and every refusal.

One gateway (a real ``twokey serve`` process) over the demo organisation serves the whole
module; the tests that change state each use their own deploy request.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.gateway._ui import UiWorld, csrf_of, start_ui_world
from tests.support.gateway import issue_token, start_gateway
from twokey.ledger import leaf_hash, verify_inclusion

PAGES = ("/", "/deploys", "/ledger", "/policy")


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiWorld]:
    world = start_ui_world(tmp_path_factory.mktemp("ui"))
    try:
        yield world
    finally:
        world.gateway.stop()


def _state(ui: UiWorld, deploy_id: str) -> str:
    with ui.browser("erin") as client:
        page = client.get(f"/deploys/{deploy_id}").text
    found = re.search(r'<h1>.*?class="state state-(\w+)"', page, re.S)
    assert found is not None
    return found.group(1)


# -- pages and headers -----------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_a_page_without_a_session_redirects_to_login(ui: UiWorld, path: str) -> None:
    with ui.browser() as client:
        answer = client.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"


def test_a_deploy_page_without_a_session_redirects_to_login(ui: UiWorld) -> None:
    with ui.browser() as client:
        answer = client.get(f"/deploys/{ui.requests['ready']}")
    assert (answer.status_code, answer.headers["location"]) == (303, "/login")


@pytest.mark.parametrize("path", [*PAGES, "/login"])
def test_every_page_has_the_security_headers(ui: UiWorld, path: str) -> None:
    with ui.browser("dave" if path != "/login" else "") as client:
        answer = client.get(path)
    assert answer.status_code == 200, answer.text
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'none'" in csp
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["referrer-policy"] == "same-origin"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in answer.text  # no inline script: the CSP would block it anyway
    assert '<main id="main"' in answer.text
    assert 'lang="en"' in answer.text


def test_the_login_page_posts_a_code_to_the_session_route(ui: UiWorld) -> None:
    with ui.browser() as client:
        page = client.get("/login").text
    assert '<form method="post" action="/v1/session">' in page
    assert '<label for="code">' in page
    assert 'name="code"' in page
    assert "single sign-on" not in page  # no SSO configured


def test_the_login_page_escapes_the_error_it_shows(ui: UiWorld) -> None:
    with ui.browser() as client:
        page = client.get("/login", params={"error": "<script>alert(1)</script>"}).text
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_login_page_offers_single_sign_on_when_configured(ui: UiWorld) -> None:
    second = start_gateway(
        ui.data,
        "--oidc-issuer",
        "https://login.example.com",
        "--oidc-client-id",
        "twokey",
        repo=ui.data / "demo" / "shop.git",
    )
    try:
        page = httpx.get(second.url + "/login", timeout=30).text
    finally:
        second.stop()
    assert '<a class="button secondary" href="/login/sso">Sign in with single sign-on</a>' in page


def test_a_signed_in_person_is_sent_from_login_to_the_dashboard(ui: UiWorld) -> None:
    with ui.browser("dave") as client:
        answer = client.get("/login")
    assert (answer.status_code, answer.headers["location"]) == (303, "/")


def test_static_files_are_served_without_a_session_and_nothing_else(ui: UiWorld) -> None:
    with ui.browser() as client:
        css = client.get("/static/app.css")
        script = client.get("/static/ledger.js")
        other = client.get("/static/..%2F_auth.py")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert script.status_code == 200
    assert "crypto.subtle.digest" in script.text
    assert other.status_code == 404


def test_a_service_token_gets_no_pages(ui: UiWorld) -> None:

    token = issue_token(f"sqlite://{ui.data / 'gateway.db'}", "service", "ci", ttl=600)
    with ui.gateway.client(token) as client:
        answer = client.get("/")
    assert answer.status_code == 403
    assert "service" in answer.json()["error"]


# -- the dashboard ---------------------------------------------------------------------------


def test_the_dashboard_shows_what_waits_for_dave(ui: UiWorld) -> None:
    with ui.browser("dave") as client:
        page = client.get("/").text
    waiting = page.split('data-testid="waiting"')[1].split("</section>")[0]
    assert ui.requests["ready"] in waiting
    assert ui.requests["no-provenance"] not in waiting  # denied: nothing to approve
    glass = page.split('data-testid="exceptions"')[1].split("</section>")[0]
    assert "demo day" in glass
    assert "staging" in glass
    assert 'data-testid="who">dave<' in page


def test_nothing_waits_for_the_author(ui: UiWorld) -> None:
    with ui.browser("alice") as client:
        page = client.get("/").text
    waiting = page.split('data-testid="waiting"')[1].split("</section>")[0]
    assert ui.requests["ready"] not in waiting
    assert "None." in waiting


# -- the deploy page -------------------------------------------------------------------------


def test_the_deploy_page_shows_the_chain_of_custody_in_order(ui: UiWorld) -> None:
    with ui.browser("dave") as client:
        page = client.get(f"/deploys/{ui.requests['ready']}").text
    order = [
        "commit",
        "approval",
        "check",
        "provenance",
        "request",
        "deploy-approval",
        "decision",
        "authorization",
    ]
    positions = [page.index(f'data-stage="{s}"') for s in order]
    assert positions == sorted(positions)
    timeline = page.split('data-testid="timeline"')[1]
    assert "Add checkout" in timeline
    assert "author <strong>alice</strong>" in timeline
    assert "approved by <strong>bob</strong>" in timeline
    assert "by <strong>ci</strong>" in timeline  # build provenance
    assert "Approve deploy" in page


def test_every_finding_names_its_rule_and_what_would_satisfy_it(ui: UiWorld) -> None:
    with ui.browser("dave") as client:
        page = client.get(f"/deploys/{ui.requests['laptop']}").text
    finding = page.split('data-code="UNTRUSTED_BUILDER"')[1].split("</li>")[0]
    assert "built by bob, not a trusted builder" in finding
    assert re.search(r"refs/heads/main:\.twokey/policy\.yml:\d+", finding)
    assert "production:" in finding  # the policy's own line, from the trusted policy
    assert "Would satisfy it: build provenance for this digest and commit, signed by ci" in finding
    assert 'data-stage="provenance"' in page
    assert re.search(r'class="stage stage-blocked" data-stage="provenance"', page)


@pytest.mark.parametrize(
    ("scenario", "code"),
    [
        ("no-provenance", "NO_PROVENANCE"),
        ("laptop", "UNTRUSTED_BUILDER"),
        ("unreviewed", "REF_NOT_DEPLOYABLE"),
        ("own-approval", "DEPLOY_APPROVER_CONFLICT"),
        ("glass", "BREAK_GLASS"),
    ],
)
def test_each_blocked_request_says_why(ui: UiWorld, scenario: str, code: str) -> None:
    with ui.browser("erin") as client:
        page = client.get(f"/deploys/{ui.requests[scenario]}").text
    assert f'data-code="{code}"' in page


def test_the_author_gets_no_button_and_is_told_why(ui: UiWorld) -> None:
    with ui.browser("alice") as client:
        page = client.get(f"/deploys/{ui.requests['ready']}").text
    assert "Approve deploy" not in page
    assert "/approve" not in page
    why = page.split('data-testid="why-not"')[1].split("</p>")[0]
    assert "alice wrote commit" in why
    assert "(the author)" in why


def test_someone_who_is_no_approver_is_told_why(ui: UiWorld) -> None:
    with ui.browser("erin") as client:
        page = client.get(f"/deploys/{ui.requests['ready']}").text
    assert "Approve deploy" not in page
    assert "erin is not an approver of deploys to production" in page


def test_buttons_follow_what_each_person_may_do(ui: UiWorld) -> None:
    ready, glass = ui.requests["ready"], ui.requests["glass"]
    with ui.browser("dave") as dave, ui.browser("erin") as erin:
        dave_ready = dave.get(f"/deploys/{ready}").text
        dave_glass = dave.get(f"/deploys/{glass}").text
        erin_ready = erin.get(f"/deploys/{ready}").text
        erin_glass = erin.get(f"/deploys/{glass}").text
    assert f"/deploys/{ready}/reject" in dave_ready  # an operator of production
    assert f"/deploys/{ready}/cancel" not in dave_ready  # ci asked for it, not dave
    assert f"/deploys/{glass}/cancel" in dave_glass  # dave asked for this one
    assert f"/deploys/{ready}/reject" not in erin_ready
    assert "erin is neither an approver nor a deployer" in erin_ready
    assert "/cancel" not in erin_glass


def test_an_unknown_request_is_404(ui: UiWorld) -> None:
    with ui.browser("dave") as client:
        assert client.get("/deploys/d000000000000").status_code == 404
        assert client.get("/deploys/..%2Fetc").status_code == 404


# -- refusals --------------------------------------------------------------------------------


def test_the_authors_forged_approval_is_refused_and_changes_nothing(ui: UiWorld) -> None:
    deploy = ui.requests["ready"]
    with ui.browser("alice") as client:
        csrf = csrf_of(client.get("/").text)  # her own valid CSRF token
        answer = client.post(f"/deploys/{deploy}/approve", data={"csrf": csrf})
    assert answer.status_code == 403
    assert "Refused: alice wrote commit" in answer.text
    assert _state(ui, deploy) == "pending"


def test_an_approval_without_the_csrf_token_is_refused(ui: UiWorld) -> None:
    deploy = ui.requests["ready"]
    with ui.browser("dave") as client:
        missing = client.post(f"/deploys/{deploy}/approve", data={})
        wrong = client.post(f"/deploys/{deploy}/approve", data={"csrf": "0" * 64})
    for answer in (missing, wrong):
        assert answer.status_code == 403
        assert "CSRF" in answer.json()["error"]
    assert _state(ui, deploy) == "pending"


def test_another_sessions_csrf_token_does_not_count(ui: UiWorld) -> None:
    deploy = ui.requests["ready"]
    with ui.browser("carol") as other:
        stolen = csrf_of(other.get("/").text)
    with ui.browser("dave") as client:
        answer = client.post(f"/deploys/{deploy}/approve", data={"csrf": stolen})
    assert answer.status_code == 403
    assert _state(ui, deploy) == "pending"


def test_an_approval_without_a_session_is_401(ui: UiWorld) -> None:
    with ui.browser() as client:
        answer = client.post(f"/deploys/{ui.requests['ready']}/approve", data={"csrf": "x"})
    assert answer.status_code == 401


def test_a_denied_request_cannot_be_approved(ui: UiWorld) -> None:
    deploy = ui.requests["no-provenance"]
    with ui.browser("dave") as client:
        csrf = csrf_of(client.get("/").text)
        answer = client.post(f"/deploys/{deploy}/approve", data={"csrf": csrf})
    assert answer.status_code == 409
    assert "Refused: the request is denied" in answer.text


def test_a_rejection_needs_a_reason_and_an_operator(ui: UiWorld) -> None:
    deploy = ui.requests["ready"]
    with ui.browser("dave") as dave, ui.browser("alice") as alice:
        empty = dave.post(
            f"/deploys/{deploy}/reject", data={"csrf": csrf_of(dave.get("/").text), "reason": " "}
        )
        author = alice.post(
            f"/deploys/{deploy}/reject",
            data={"csrf": csrf_of(alice.get("/").text), "reason": "no"},
        )
    assert empty.status_code == 400
    assert "needs a reason" in empty.text
    assert author.status_code == 403
    assert "alice is neither an approver" in author.text
    assert _state(ui, deploy) == "pending"


def test_only_the_requester_cancels(ui: UiWorld) -> None:
    glass = ui.requests["glass"]
    with ui.browser("erin") as erin:
        forged = erin.post(f"/deploys/{glass}/cancel", data={"csrf": csrf_of(erin.get("/").text)})
    assert forged.status_code == 403
    assert "only the requester (dave) may cancel it" in forged.text
    assert _state(ui, glass) == "authorized"
    with ui.browser("dave") as dave:
        done = dave.post(f"/deploys/{glass}/cancel", data={"csrf": csrf_of(dave.get("/").text)})
    assert (done.status_code, done.headers["location"]) == (303, f"/deploys/{glass}")
    assert _state(ui, glass) == "cancelled"


def test_dave_approves_and_the_request_is_authorized(ui: UiWorld) -> None:
    deploy = ui.requests["own-approval"]  # Carol's own approval did not count; Dave's does
    with ui.browser("dave") as client:
        csrf = csrf_of(client.get(f"/deploys/{deploy}").text)
        answer = client.post(f"/deploys/{deploy}/approve", data={"csrf": csrf})
        assert (answer.status_code, answer.headers["location"]) == (303, f"/deploys/{deploy}")
        page = client.get(f"/deploys/{deploy}").text
    assert _state(ui, deploy) == "authorized"
    assert "approved by <strong>dave</strong>" in page
    counted = page.split('data-testid="counted"')[1].split("</ul>")[0]
    assert "counted: <strong>dave</strong>" in counted
    assert "not counted: <strong>carol</strong>" in counted
    assert "signed authorization" in page


def test_a_hostile_reason_is_shown_as_text(ui: UiWorld) -> None:
    """A break-glass reason is the requester's own text: it must never become markup."""
    from twokey.gateway import DeployService, Gateway, GatewayConfig  # noqa: PLC0415
    from twokey.gateway._auth import Caller  # noqa: PLC0415

    hostile = '</code><script>alert(1)</script><img src=x onerror="alert(2)">'
    config = GatewayConfig(data=ui.data, repo=ui.data / "demo" / "shop.git")
    gateway = Gateway(config)
    try:
        commit = gateway.reader().git.text("rev-parse", "main")
        artifact = "sha256:" + "ab" * 32
        dave = Caller("dave", "person", "test")
        deploy = DeployService(gateway).request(dave, "staging", commit, artifact, hostile).id
    finally:
        gateway.close()
    with ui.browser("erin") as client:
        pages = [client.get("/").text, client.get(f"/deploys/{deploy}").text]
    for page in pages:
        assert "<script>alert(1)" not in page
        assert "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x" in page


# -- the ledger and the policy ---------------------------------------------------------------


def test_the_ledger_page_searches_by_kind_subject_and_text(ui: UiWorld) -> None:
    with ui.browser("dave") as client:
        deploys = client.get("/ledger", params={"kind": "deploy", "subject": "staging"}).text
        text = client.get("/ledger", params={"text": "demo day"}).text
        none = client.get("/ledger", params={"text": "no entry says this"}).text
    table = deploys.split('data-testid="entries"')[1].split("</table>")[0]
    rows = table.split("<tr><td>")[1:]
    assert rows
    assert all("<td>deploy</td>" in r and "staging" in r for r in rows)
    found = text.split('data-testid="entries"')[1]
    assert found.count("<tr><td>") >= 1
    assert "staging" in found
    assert "No entries match." in none
    assert 'data-testid="checkpoint"' in deploys  # the demo signed one


def test_the_ledger_page_gives_a_proof_that_verifies(ui: UiWorld) -> None:
    with ui.browser("dave") as client:
        page = client.get("/ledger", params={"entry": 2}).text
    raw = page.split('<script type="application/json" id="proof-data">')[1].split("</script>")[0]
    proof = json.loads(raw)
    leaf = leaf_hash(base64.b64decode(proof["leaf"]))
    path = [bytes.fromhex(h) for h in proof["proof"]]
    root = bytes.fromhex(proof["root"])
    verify_inclusion(leaf, 2, proof["size"], path, root)  # raises when it does not hold
    assert proof["signed"]
    assert proof["checkpoint"].split("\n")[1] == str(proof["size"])  # the note's tree size
    assert '<script src="/static/ledger.js"></script>' in page


def test_a_proof_of_the_newest_entry_ends_at_a_signed_checkpoint(ui: UiWorld) -> None:
    """No checkpoint covers the newest entries yet: the page has the gateway sign one first."""
    with ui.browser("dave") as client:
        head = client.get("/ledger").text
        size = int(re.search(r"<p>(\d+) entries; tree head", head).group(1))  # type: ignore[union-attr]
        page = client.get("/ledger", params={"entry": size - 1}).text
    proof = json.loads(page.split('id="proof-data">')[1].split("</script>")[0])
    assert proof["signed"]
    assert proof["size"] >= size
    leaf = leaf_hash(base64.b64decode(proof["leaf"]))
    path = [bytes.fromhex(h) for h in proof["proof"]]
    verify_inclusion(leaf, size - 1, proof["size"], path, bytes.fromhex(proof["root"]))


def test_a_missing_ledger_entry_is_404(ui: UiWorld) -> None:
    with ui.browser("dave") as client:
        assert client.get("/ledger", params={"entry": 10**6}).status_code == 404
        assert client.get("/ledger", params={"entry": -1}).status_code == 404
        assert client.get("/ledger", params={"entry": "x"}).status_code == 422


def test_the_policy_page_shows_who_may_do_what(ui: UiWorld) -> None:
    with ui.browser("alice") as client:
        page = client.get("/policy").text
    roles = page.split('data-testid="roles"')[1].split("</table>")[0]
    dave = roles.split('<th scope="row">dave')[1].split("</tr>")[0]
    assert "approve deploys to production" in dave
    assert "break glass on production" in dave
    assert "author only" in roles.split('<th scope="row">alice')[1].split("</tr>")[0]
    assert "refs/heads/main:.twokey/policy.yml" in page


# -- signing out -----------------------------------------------------------------------------


def test_sign_out_needs_the_csrf_token_and_ends_the_session(ui: UiWorld) -> None:
    with ui.browser("frank") as client:
        csrf = csrf_of(client.get("/").text)
        assert client.post("/signout", data={}).status_code == 403
        answer = client.post("/signout", data={"csrf": csrf})
        assert (answer.status_code, answer.headers["location"]) == (303, "/login")
        again = client.get("/")
    assert (again.status_code, again.headers["location"]) == (303, "/login")


def test_the_pages_load_nothing_from_elsewhere(ui: UiWorld) -> None:
    with ui.browser("dave") as client:
        pages = [client.get(p).text for p in PAGES]
    for page in pages:
        assert not re.search(r'(src|href)="(https?:)?//', page)


# -- last: someone edits the database (this breaks the module's ledger) ----------------------


def test_an_edited_entry_shows_on_the_dashboard_and_its_proof_fails(ui: UiWorld) -> None:
    import sqlite3  # noqa: PLC0415

    from twokey.ledger import ProofError  # noqa: PLC0415

    with sqlite3.connect(ui.data / "gateway.db") as db:
        db.execute(
            "UPDATE twokey_entries SET data = CAST(replace(CAST(data AS TEXT), '\"deny\"', "
            "'\"allow\"') AS BLOB) WHERE idx = 1"
        )
    with ui.browser("dave") as client:
        dashboard = client.get("/").text
        page = client.get("/ledger", params={"entry": 1}).text
    problem = dashboard.split('data-testid="ledger-problem"')[1].split("</p>")[0]
    assert "the ledger does not verify" in problem
    raw = page.split('id="proof-data">')[1].split("</script>")[0]
    proof = json.loads(raw)
    leaf = leaf_hash(base64.b64decode(proof["leaf"]))
    assert b'"allow"' in base64.b64decode(proof["leaf"])
    with pytest.raises(ProofError):
        verify_inclusion(
            leaf,
            1,
            proof["size"],
            [bytes.fromhex(h) for h in proof["proof"]],
            bytes.fromhex(proof["root"]),
        )
