"""Routes of who is calling: sign-in, browser codes and sessions, ``/v1/me``, tokens.

``POST /v1/login/nonce`` and ``POST /v1/login`` (SSH-key sign-in), ``POST /v1/login/browser-code``,
``POST /v1/session`` (a code, as JSON or an HTML form), ``POST /v1/session/logout``,
``GET /v1/me``, ``GET /v1/tokens``, ``POST /v1/tokens`` (a service token) and
``POST /v1/tokens/{id}/revoke``. See :mod:`twokey.gateway._login` and docs/gateway.md.
"""

from __future__ import annotations

__all__ = ["router", "session_cookie", "setup"]

import json
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from twokey.gateway import _login
from twokey.gateway._auth import (
    SESSION_COOKIE,
    Caller,
    authenticated,
    csrf_token,
    gateway_of,
    person,
)
from twokey.gateway._login import SignedIn, SignInError
from twokey.gateway._state import Gateway

router = APIRouter(tags=["sign-in"])
setup = _login.setup
_MAX_FORM = 4096


class NonceRequest(BaseModel):
    """``POST /v1/login/nonce``: optionally, who is signing in."""

    person: str = Field("", max_length=128)


class LoginRequest(BaseModel):
    """``POST /v1/login``: the nonce, signed with ``ssh-keygen -Y sign -n twokey-login``."""

    person: str = Field("", max_length=128)
    nonce: str = Field(max_length=256)
    signature: str = Field(max_length=_login.MAX_SIGNATURE)


class ServiceTokenRequest(BaseModel):
    """``POST /v1/tokens``: a token for a service the policy lists."""

    service: str = Field(max_length=128)
    name: str = Field("", max_length=128)
    days: int = _login.SERVICE_TTL_DAYS


def _refused(exc: SignInError) -> HTTPException:
    return HTTPException(401, exc.message, headers={"WWW-Authenticate": "Bearer"})


@router.post("/v1/login/nonce")
def login_nonce(request: Request, body: NonceRequest | None = None) -> dict[str, str]:
    """A one-time nonce to sign (two minutes, single use)."""
    nonce, expires = _login.new_nonce(gateway_of(request), body.person if body else "")
    return {"nonce": nonce, "expires": expires.isoformat(), "namespace": _login.NAMESPACE}


@router.post("/v1/login")
def login(request: Request, body: LoginRequest) -> dict[str, str]:
    """Sign in with an SSH signature over a nonce: a ``person`` token."""
    try:
        return _login.sign_in(
            gateway_of(request), body.person, body.nonce, body.signature
        ).to_dict()
    except SignInError as exc:
        raise _refused(exc) from exc


@router.post("/v1/login/browser-code")
def browser_code(request: Request, caller: Annotated[Caller, Depends(person)]) -> dict[str, str]:
    """A one-time code (five minutes) that signs a browser in as the caller."""
    code, expires = _login.issue_code(gateway_of(request), caller)
    base = gateway_of(request).config.base_url
    return {"code": code, "expires": expires.isoformat(), "url": f"{base}/login"}


def session_cookie(gateway: Gateway, response: Response, signed: SignedIn) -> None:
    """Set the session cookie (HttpOnly, SameSite=Lax, Secure behind https)."""
    response.set_cookie(
        SESSION_COOKIE,
        signed.token,
        max_age=gateway.config.session_ttl,
        path="/",
        httponly=True,
        samesite="lax",
        secure=gateway.config.base_url.startswith("https://"),
    )


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def _code_of(request: Request) -> tuple[str, bool]:
    """The code a request carries and whether it came as an HTML form."""
    kind = request.headers.get("content-type", "")
    if "application/x-www-form-urlencoded" in kind or "multipart/form-data" in kind:
        form = await request.form(max_files=0, max_fields=8)
        value = form.get("code", "")
        return (value if isinstance(value, str) else ""), True
    try:
        data: Any = json.loads(await request.body() or b"null")
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("code"), str):
        raise HTTPException(422, 'bad request: send {"code": "ABCD-EFGH"} or a form field code')
    return data["code"], False


@router.post("/v1/session", response_model=None)
async def open_session(request: Request) -> Response:
    """Redeem a one-time code: the session cookie, and the session's CSRF token."""
    gateway = gateway_of(request)
    origin = request.headers.get("origin")
    if origin is not None and origin.rstrip("/") != _origin_of(gateway.config.base_url):
        # login CSRF: another site posting its own code would sign this browser in as them
        raise HTTPException(403, f"a sign-in posted from {origin[:100]} is refused")
    code, form = await _code_of(request)
    try:
        signed = await run_in_threadpool(_login.open_session, gateway, code)
    except SignInError as exc:
        if form:
            return RedirectResponse("/login?error=" + quote(exc.message), status_code=303)
        raise _refused(exc) from exc
    caller = Caller(signed.person, "session", _login.digest(signed.token), cookie=True)
    response: Response
    if form:
        response = RedirectResponse("/", status_code=303)
    else:
        response = JSONResponse({"person": signed.person, "csrf": csrf_token(gateway, caller)})
    session_cookie(gateway, response, signed)
    return response


@router.post("/v1/session/logout")
def logout(request: Request, caller: Annotated[Caller, Depends(authenticated)]) -> JSONResponse:
    """Sign out: revoke the credentials of this request (cookie or token) and clear the cookie."""
    gateway = gateway_of(request)
    _login.sign_out(gateway, caller)
    response = JSONResponse({"signed_out": caller.subject})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/v1/me")
def me(request: Request, caller: Annotated[Caller, Depends(authenticated)]) -> dict[str, Any]:
    """Who is calling: the person (None for a service), the kind of credentials, the CSRF
    token a browser session must send with every change."""
    return {
        "person": caller.person,
        "subject": caller.subject,
        "kind": caller.kind,
        "csrf": csrf_token(gateway_of(request), caller),
    }


@router.get("/v1/tokens")
def list_tokens(
    request: Request, caller: Annotated[Caller, Depends(person)]
) -> dict[str, list[dict[str, str]]]:
    """The caller's tokens and sessions, and the service tokens they created."""
    assert caller.person is not None
    return {"tokens": _login.tokens_of(gateway_of(request), caller.person)}


@router.post("/v1/tokens")
def create_token(
    request: Request, body: ServiceTokenRequest, caller: Annotated[Caller, Depends(person)]
) -> dict[str, str]:
    """A token for a service of the policy (shown once; the caller may revoke it)."""
    signed = _login.create_service_token(
        gateway_of(request), caller, body.service, body.name, body.days
    )
    return {
        "token": signed.token,
        "service": signed.person,
        "expires": signed.expires.isoformat(),
        "id": _login.digest(signed.token)[:12],
    }


@router.post("/v1/tokens/{token_id}/revoke")
def revoke(
    request: Request, token_id: str, caller: Annotated[Caller, Depends(person)]
) -> dict[str, str]:
    """Revoke one of the caller's tokens, or a service token they created."""
    try:
        return _login.revoke_token(gateway_of(request), caller, token_id)
    except LookupError as exc:
        raise HTTPException(404, str(exc.args[0])) from exc
