"""``POST /v1/checks`` without FastAPI's per-request machinery, for the common request only.

A check's answer costs ~1.8 ms of CPU; FastAPI's routing over every route of the gateway, its
dependency solver and pydantic's body model cost about as much again (bench/gateway.md, ADR
0032). :class:`FastChecks` is an ASGI middleware that answers the one common shape of a check
itself and hands **everything else** to the FastAPI route unchanged (the same body replayed):

* ``POST /v1/checks`` with no query string, ``Content-Type: application/json`` and an
  ``Authorization: Bearer`` header;
* a body that is UTF-8 JSON, an object of exactly the keys ``ref``, ``old`` and ``new`` (no
  key twice), each a string of the route's own form, ``ref`` printable ASCII: a subset of
  what ``CheckBody`` accepts, on which both read the same values
  (tests/unit/gateway/test_fast_checks.py checks it against the model);
* a caller that the route's own dependency, :func:`~twokey.gateway._auth.authenticated`,
  accepts: its token looked up and held against the trusted policy by the same functions
  (``optional_caller``, ``still_trusted``), on the check's own thread (one thread hop a
  check instead of three).

Such a request is judged and recorded by the same function as the route's (``check``), on
the same executor, and answered by the same ``answer``; its errors are the app's. Any request
the fast path does not take (a bad body, no or a bad token, a cookie, ``?format=``) is the
route's, with its exact answers (422 naming the field, 401...).
"""

from __future__ import annotations

__all__ = ["FastChecks", "fast_body"]

import asyncio
import json
import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse, Response

from twokey.errors import TwokeyError
from twokey.gateway import _routes_api as api
from twokey.gateway._auth import gateway_of, optional_caller, still_trusted

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

PATH = "/v1/checks"
_ROUTE = SimpleNamespace(path=PATH)  # what RequestMetrics labels the answer with
_JSON_TYPES = frozenset({b"application/json", b"application/json; charset=utf-8"})
_REF = re.compile(r"refs/[\x21-\x7e]+")  # printable ASCII without space: within CheckBody's
_OID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_KEYS = ("ref", "old", "new")
_MAX_REF = 1024

ErrorAnswer = Callable[[Exception], Response]


class _DuplicateKeyError(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise _DuplicateKeyError
    return found


def fast_body(data: bytes) -> api.CheckBody | None:
    """The check's body when it has the one common form; None for anything else (the route
    then parses it and answers its own errors)."""
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=_pairs)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or sorted(value) != sorted(_KEYS):
        return None
    ref, old, new = (value[k] for k in _KEYS)
    if not all(type(v) is str for v in (ref, old, new)):
        return None
    if len(ref) > _MAX_REF or not _REF.fullmatch(ref):
        return None
    if not (_OID.fullmatch(old) and _OID.fullmatch(new)):
        return None
    return api.CheckBody.model_construct(ref=ref, old=old, new=new)


def _wanted(scope: Scope) -> bool:
    """The request line and headers of the common check (the body is read next)."""
    if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
        return False
    if scope.get("query_string"):
        return False
    bearer = content = False
    for name, value in scope["headers"]:
        if name == b"content-type":
            content = value.lower() in _JSON_TYPES
        elif name == b"authorization":
            bearer = value[:7].lower() == b"bearer "
    return bearer and content


async def _read(receive: Receive) -> tuple[bytes, list[Message]]:
    """The whole body, and the messages it came in (replayed to the route if it takes it)."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks), messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


class FastChecks:
    """Answers the common ``POST /v1/checks`` itself; passes every other request on."""

    def __init__(self, app: ASGIApp, errors: ErrorAnswer) -> None:
        self.app = app
        self.errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _wanted(scope):
            await self.app(scope, receive, send)
            return
        data, messages = await _read(receive)
        body = fast_body(data) if messages[-1]["type"] == "http.request" else None
        request = Request(scope)
        response = await self._answer(request, body) if body is not None else None
        if response is None:  # the route answers it, with its own errors (401, 422...)
            await self.app(scope, _replay(messages, receive), send)
            return
        scope["route"] = _ROUTE
        await response(scope, receive, send)

    async def _answer(self, request: Request, body: api.CheckBody) -> Response | None:
        """The check's answer; None when the caller is not authenticated (the route says why)."""
        loop = asyncio.get_running_loop()
        try:
            done = await loop.run_in_executor(api.CHECKERS, _authorized_check, request, body)
        except (HTTPException, TwokeyError) as exc:
            return self.errors(exc)
        if done is None:
            return None
        report, indexes, status = done
        return JSONResponse(api.answer(report, indexes), status_code=status)


def _authorized_check(request: Request, body: api.CheckBody) -> api.Checked | None:
    """The check, for a caller :func:`~twokey.gateway._auth.authenticated` accepts, by its
    own steps for a bearer token: the token is known, live and not a session's
    (``optional_caller``), and the trusted policy still stands behind it (``still_trusted``);
    None for anything else (the route answers it: 401, 403). Keep it in step with
    ``authenticated``."""
    caller = optional_caller(request)
    if caller is None or caller.cookie or still_trusted(request, caller) is not None:
        return None
    return api.check(gateway_of(request), body)
