"""Routes of single sign-on: ``GET /login/sso`` and ``GET /login/sso/callback`` (ADR 0025).

A browser (``Accept: text/html``) that is refused goes back to ``/login?error=REASON``;
any other client gets the JSON error (401). See :mod:`twokey.gateway._oidc`.
"""

from __future__ import annotations

__all__ = ["router", "setup"]

from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from twokey.gateway import _oidc
from twokey.gateway._auth import gateway_of
from twokey.gateway._oidc import COOKIE, STATE_TTL, SsoError
from twokey.gateway._routes_login import session_cookie

router = APIRouter(tags=["sign-in"])
setup = _oidc.setup
_PATH = "/login/sso"


def _refuse(request: Request, reason: str, status: int = 401) -> Response:
    if "text/html" in request.headers.get("accept", ""):
        response: Response = RedirectResponse("/login?error=" + quote(reason), status_code=303)
        response.delete_cookie(COOKIE, path=_PATH)
        return response
    raise HTTPException(status, reason)


@router.get(_PATH, response_model=None)
async def sso_begin(request: Request) -> Response:
    """Send the browser to the provider (state and PKCE bound to a ten-minute cookie)."""
    gateway = gateway_of(request)
    if not _oidc.configured(gateway):
        return _refuse(request, "single sign-on is not configured on this gateway", 404)
    url, secret = await run_in_threadpool(_oidc.begin, gateway)
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(
        COOKIE,
        secret,
        max_age=STATE_TTL,
        path=_PATH,
        httponly=True,
        samesite="lax",  # sent on the provider's top-level redirect back, not on cross-site posts
        secure=gateway.config.base_url.startswith("https://"),
    )
    return response


@router.get(_PATH + "/callback", response_model=None)
async def sso_callback(request: Request) -> Response:
    """The provider's redirect back: verify, map to a person, open a browser session."""
    gateway = gateway_of(request)
    if not _oidc.configured(gateway):
        return _refuse(request, "single sign-on is not configured on this gateway", 404)
    query = request.query_params
    if "error" in query:
        return _refuse(request, f"the provider refused: {query['error'][:100]}")
    state, code = query.get("state", ""), query.get("code", "")
    if not state or len(state) > 256 or len(code) > 2048:
        return _refuse(request, "no sign-in state: start again at /login/sso")
    secret = request.cookies.get(COOKIE, "")
    try:
        signed = await run_in_threadpool(_oidc.finish, gateway, state, code, secret)
    except SsoError as exc:
        return _refuse(request, exc.message)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE, path=_PATH)
    session_cookie(gateway, response, signed)
    return response
