"""The web UI: server-rendered pages (Jinja2) over the same services as the API.

Pages: ``/login``, ``/`` (the dashboard: what waits for me, recent decisions, open break-glass
exceptions), ``/deploys`` and ``/deploys/{id}`` (the chain of custody as a timeline, every
finding with its rule and what would satisfy it, approve and reject for those who may),
``/ledger`` (the latest checkpoint, a search, an entry's inclusion proof verified in the page)
and ``/policy`` (who may do what). A visitor without a session is sent to ``/login``.

Every page answers with a strict Content-Security-Policy (scripts only from ``/static/``, no
inline script or style), ``X-Frame-Options: DENY``, ``Referrer-Policy: same-origin`` and
``Cache-Control: no-store``. The forms post with the session's CSRF token (field ``csrf``),
checked by ``authenticated`` before anything else; the page only offers a button to someone
the deploy service says may press it, and the service decides again when it is pressed.
"""

from __future__ import annotations

__all__ = ["router"]

import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from twokey import __version__
from twokey.gateway import _views
from twokey.gateway._auth import (
    Caller,
    authenticated,
    csrf_token,
    gateway_of,
    optional_caller,
    still_trusted,
)

if TYPE_CHECKING:
    import jinja2

    from twokey.gateway._state import Gateway

router = APIRouter(include_in_schema=False)

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
STATIC = {"app.css": "text/css", "ledger.js": "text/javascript"}
_MAX_QUERY = 200


@cache
def _templates() -> jinja2.Environment:
    import jinja2  # noqa: PLC0415 - only the UI needs it

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("twokey.gateway", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["short"] = lambda text, n=12: str(text)[:n]
    return env


def render(
    request: Request, template: str, status: int = 200, caller: Caller | None = None, **values: Any
) -> HTMLResponse:
    """A page with the security headers; ``caller`` (signed in) gets the nav and a CSRF token."""
    gateway = gateway_of(request)
    page = (
        _templates()
        .get_template(template)
        .render(
            caller=caller,
            csrf=csrf_token(gateway, caller) if caller is not None else "",
            path=request.url.path,
            version=__version__,
            **values,
        )
    )
    return HTMLResponse(page, status_code=status, headers=HEADERS)


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=HEADERS)


async def _viewer(request: Request) -> Caller | None:
    """The signed-in person, or None (the page then redirects to /login)."""
    caller = await run_in_threadpool(optional_caller, request)
    if caller is not None and caller.person is None:
        raise HTTPException(403, f"{caller.subject} is a service: the web UI is for people")
    if caller is not None and await run_in_threadpool(still_trusted, request, caller) is not None:
        return None  # the policy no longer stands behind this session: sign in again
    return caller


Viewer = Annotated[Caller | None, Depends(_viewer)]


def _service(gateway: Gateway) -> Any:
    from twokey.gateway._deploys import DeployService  # noqa: PLC0415

    return DeployService(gateway)


# -- sign in ---------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login(request: Request, viewer: Viewer, error: str = "") -> Response:
    """The sign-in form: a one-time code from ``twokey login --browser`` (or single sign-on)."""
    if viewer is not None:
        return _redirect("/")
    gateway = gateway_of(request)
    return render(
        request,
        "login.html",
        error=error[:_MAX_QUERY],
        sso=_sso(gateway),
        base_url=gateway.config.base_url,
    )


def _sso(gateway: Gateway) -> bool:
    """Single sign-on is configured (an OpenID Connect issuer and client)."""
    from twokey.gateway._oidc import configured  # noqa: PLC0415

    return configured(gateway)


@router.post("/signout")
def sign_out(request: Request, caller: Annotated[Caller, Depends(authenticated)]) -> Response:
    """Sign out (the form carries the CSRF token): revoke the session, back to /login."""
    from twokey.gateway import _login  # noqa: PLC0415
    from twokey.gateway._auth import SESSION_COOKIE  # noqa: PLC0415

    _login.sign_out(gateway_of(request), caller)  # recorded in the ledger, then revoked
    response = _redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- the dashboard ---------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, viewer: Viewer) -> Response:
    """What waits for me, recent decisions, open break-glass exceptions."""
    if viewer is None:
        return _redirect("/login")
    gateway = gateway_of(request)
    service = _service(gateway)
    assert viewer.person is not None
    waiting = service.waiting_for(viewer.person)
    mine = [v for v in service.list(None, 20) if v.requester == viewer.person]
    decisions, _ = _views.search_entries(gateway.ledger(), kind="", limit=200)
    recent = [r for r in decisions if r.verdict][:10]
    exceptions, problem = _open_exceptions(gateway)
    return render(
        request,
        "dashboard.html",
        caller=viewer,
        waiting=waiting,
        mine=mine,
        recent=recent,
        exceptions=exceptions,
        problem=problem,
    )


def _open_exceptions(gateway: Gateway) -> tuple[list[dict[str, Any]], str]:
    """Break-glass exceptions in the ledger nobody has reviewed yet (invariant 6), read from
    the verified ledger; a ledger that does not verify is said, not hidden ("" when fine)."""
    from twokey.audit import is_open, read_exceptions  # noqa: PLC0415
    from twokey.ledger import LedgerCorruptError  # noqa: PLC0415

    policy = gateway.policy().policy
    try:
        found = read_exceptions(gateway.config.database_url, policy)
    except LedgerCorruptError as exc:
        return [], f"the ledger does not verify: {exc.message}"
    rows = []
    for glass in found.resolve(policy):
        principal = policy.resolve(glass.actor)
        row = glass.to_dict(principal.id if principal is not None else str(glass.actor))
        if is_open(row):
            rows.append(row)
    return rows, ""


# -- deploy requests -------------------------------------------------------------------------


@router.get("/deploys", response_class=HTMLResponse)
def deploys(request: Request, viewer: Viewer, state: str = "") -> Response:
    """Every deploy request, newest first (one state when asked)."""
    if viewer is None:
        return _redirect("/login")
    from twokey.gateway._deploys import STATES  # noqa: PLC0415

    service = _service(gateway_of(request))
    views = service.list(state or None, 100)
    return render(request, "deploys.html", caller=viewer, views=views, state=state, states=STATES)


def _deploy_page(
    request: Request, viewer: Caller, deploy_id: str, refusal: str = "", status: int = 200
) -> Response:
    gateway = gateway_of(request)
    service = _service(gateway)
    view = service.get(deploy_id)
    assert viewer.person is not None
    may, why = service.may_act(view, viewer.person)
    may_reject, why_reject = service.may_reject(view, viewer.person)
    may_cancel, _ = service.may_cancel(view, viewer)
    findings = _views.explain_findings(view.decision, _policy_text(gateway))
    return render(
        request,
        "deploy.html",
        status,
        caller=viewer,
        view=view,
        findings=findings,
        stages=_views.stages(view.timeline(), findings, view.state),
        may=may,
        why=why,
        may_reject=may_reject,
        why_reject=why_reject,
        may_cancel=may_cancel,
        refusal=refusal,
    )


def _policy_text(gateway: Gateway) -> str:
    """The trusted policy's text (for the line each finding's rule points at)."""
    from twokey.policy import DEFAULT_POLICY_PATH  # noqa: PLC0415

    reader = gateway.reader()
    ref = reader.head_ref()
    found = reader.blob_at(ref, str(DEFAULT_POLICY_PATH)) if ref else None
    return found[1].decode("utf-8", "replace") if found else ""


@router.get("/deploys/{deploy_id}", response_class=HTMLResponse)
def deploy(request: Request, viewer: Viewer, deploy_id: str) -> Response:
    """One deploy request: its chain of custody, findings, and what I may do about it."""
    if viewer is None:
        return _redirect("/login")
    return _deploy_page(request, viewer, deploy_id)


async def _form_reason(request: Request) -> str:
    form = await request.form(max_files=0, max_fields=8)
    value = form.get("reason", "")
    return value if isinstance(value, str) else ""


@router.post("/deploys/{deploy_id}/approve")
def approve(
    request: Request, deploy_id: str, caller: Annotated[Caller, Depends(authenticated)]
) -> Response:
    """Approve (the deploy service decides whether this person may); 303 back to the page."""
    return _act(request, caller, deploy_id, "approve", "")


@router.post("/deploys/{deploy_id}/reject")
def reject(
    request: Request,
    deploy_id: str,
    caller: Annotated[Caller, Depends(authenticated)],
    reason: Annotated[str, Depends(_form_reason)],
) -> Response:
    """Reject with a reason; 303 back to the page."""
    return _act(request, caller, deploy_id, "reject", reason)


@router.post("/deploys/{deploy_id}/cancel")
def cancel(
    request: Request, deploy_id: str, caller: Annotated[Caller, Depends(authenticated)]
) -> Response:
    """The requester withdraws the request; 303 back to the page."""
    return _act(request, caller, deploy_id, "cancel", "")


def _act(request: Request, caller: Caller, deploy_id: str, action: str, reason: str) -> Response:
    """Do ``action``; a refusal is the page again with the reason, at the refusal's status."""
    from twokey.gateway._deploys import DeployRefused  # noqa: PLC0415

    if caller.person is None:
        raise HTTPException(403, f"{caller.subject} is a service: only a person may {action}")
    service = _service(gateway_of(request))
    try:
        if action == "approve":
            service.approve(deploy_id, caller)
        elif action == "reject":
            service.reject(deploy_id, caller, reason)
        else:
            service.cancel(deploy_id, caller)
    except DeployRefused as exc:
        if exc.status_code == 404:
            raise
        return _deploy_page(request, caller, deploy_id, exc.reason, exc.status_code)
    return _redirect(f"/deploys/{deploy_id}")


# -- the ledger and the policy ---------------------------------------------------------------


@router.get("/ledger", response_class=HTMLResponse)
def ledger(
    request: Request,
    viewer: Viewer,
    kind: str = "",
    subject: str = "",
    text: str = "",
    entry: int | None = None,
) -> Response:
    """The latest checkpoint, a search over recent entries, and one entry's proof."""
    if viewer is None:
        return _redirect("/login")
    gateway = gateway_of(request)
    try:
        return _ledger_page(request, viewer, gateway, kind[:40], subject, text, entry)
    except HTTPException:
        raise
    except Exception:
        gateway.ledger_failed()  # reconnect on the next request
        raise


def _ledger_page(
    request: Request,
    viewer: Caller,
    gateway: Gateway,
    kind: str,
    subject: str,
    text: str,
    entry: int | None,
) -> Response:
    from twokey.gateway._routes_tiles import _fresh_checkpoint  # noqa: PLC0415

    log = gateway.ledger()
    subject, text = subject[:_MAX_QUERY], text[:_MAX_QUERY]
    rows, scanned = _views.search_entries(log, kind, subject, text)
    size, root = log.head()
    proof: dict[str, Any] | None = None
    chosen: _views.EntryRow | None = None
    if entry is not None:
        if not 0 <= entry < size:
            raise HTTPException(404, f"no entry {entry} in a log of {size} entries")
        # As the public tiles do: the gateway signs its current tree head when no checkpoint
        # covers the entry yet, so the proof always ends at a signed root.
        _fresh_checkpoint(gateway)
        proof = _views.proof_of(log, entry)
        chosen = _views.entry_row(entry, log.entry(entry))
    checkpoint = log.latest_checkpoint()
    return render(
        request,
        "ledger.html",
        caller=viewer,
        rows=rows,
        scanned=scanned,
        size=size,
        root=root.hex(),
        checkpoint=checkpoint.note if checkpoint else "",
        kinds=_views.KINDS,
        kind=kind,
        subject=subject,
        text=text,
        chosen=chosen,
        pretty=_pretty(chosen.text) if chosen else "",
        proof=_script_json(proof) if proof else "",
        signed=bool(proof and proof["signed"]),
    )


def _pretty(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def _script_json(data: dict[str, Any]) -> str:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>`` breaks out)."""
    return json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@router.get("/policy", response_class=HTMLResponse)
def policy(request: Request, viewer: Viewer) -> Response:
    """Who may do what: the trusted policy, resolved (as ``twokey policy show``)."""
    if viewer is None:
        return _redirect("/login")
    from twokey.policy import policy_summary  # noqa: PLC0415

    trusted = gateway_of(request).policy()
    return render(
        request,
        "policy.html",
        caller=viewer,
        summary=policy_summary(trusted.policy),
        origin=trusted.origin,
    )


@router.get("/favicon.ico")
def favicon() -> Response:
    """No icon (an empty answer, so browsers stop asking)."""
    return Response(status_code=204, headers={**HEADERS, "Cache-Control": "public, max-age=86400"})


@router.get("/static/{name}")
def static(name: str) -> Response:
    """The UI's stylesheet and its one script (a fixed list; nothing else is served)."""
    kind = STATIC.get(name)
    if kind is None:
        raise HTTPException(404, f"no static file {name[:40]!r}")
    body = resources.files("twokey.gateway").joinpath("static", name).read_bytes()
    headers = {**HEADERS, "Cache-Control": "public, max-age=300"}
    return Response(body, media_type=kind, headers=headers)
