"""The ASGI application: FastAPI, one router per feature, errors as one JSON shape.

Every feature is a module of this package listed in ``FEATURES``; it may expose ``router`` (a
FastAPI ``APIRouter``) and ``setup(gateway)`` (its tables, run once per process at start-up).
Every error answer is ``{"error": "...", "hint": "..."}``; anything unexpected is a 500 that
decides nothing (fail closed), never a traceback.
"""

from __future__ import annotations

__all__ = ["FEATURES", "create_app"]

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import import_module
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from twokey import __version__
from twokey.errors import ConfigError, InfrastructureError, TwokeyError, UsageError
from twokey.gateway._config import GatewayConfig
from twokey.gateway._fast_checks import FastChecks
from twokey.gateway._limits import BodyLimit
from twokey.gateway._metrics import RequestMetrics
from twokey.gateway._state import Gateway

log = logging.getLogger("twokey.gateway")

# Modules of twokey.gateway with a ``router`` and/or ``setup``; the order of their routes.
FEATURES = (
    "_auth",
    "_routes_health",
    "_deploys",
    "_routes_deploys",
    "_routes_break_glass",
    "_run",
    "_routes_login",
    "_routes_oidc",
    "_routes_api",
    "_routes_tiles",
    "_metrics",
    "_routes_forge",
    "_routes_ui",
)


def _status_of(exc: TwokeyError) -> int:
    if isinstance(exc, UsageError):
        return 400
    if isinstance(exc, InfrastructureError | ConfigError):
        return 503
    return 422 if exc.exit_code == 2 else 500


def _error(status: int, message: str, hint: str = "", headers: Any = None) -> JSONResponse:
    body = {"error": message, **({"hint": hint} if hint else {})}
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        parts.append(f"{where or 'body'}: {error.get('msg', 'invalid')}")
    return "bad request: " + "; ".join(parts)


def _error_answer(exc: Exception) -> JSONResponse:
    """The app's answer to an HTTP or twokey error raised where its handlers do not reach
    (the fast path of checks, in front of them)."""
    if isinstance(exc, HTTPException):
        return _error(exc.status_code, str(exc.detail), headers=exc.headers)
    if isinstance(exc, TwokeyError):
        return _error(_status_of(exc), exc.message, exc.hint)
    raise exc


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        return _error_answer(exc)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, _validation_message(exc))

    @app.exception_handler(TwokeyError)
    async def twokey_error(_request: Request, exc: TwokeyError) -> JSONResponse:
        return _error_answer(exc)

    @app.exception_handler(Exception)
    async def internal(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error", exc_info=exc)
        return _error(500, "internal error: nothing was decided or changed (deny)")


def _freeze_startup_objects() -> None:
    """Move everything start-up made (modules, routes, models: most of the heap) out of the
    collector's sight: a full collection then walks only what requests keep, not the whole
    heap (one took 40-350 ms under load, a stall every request waiting paid; ADR 0032)."""
    gc.collect()
    gc.freeze()


def create_app(config: GatewayConfig | None = None, gateway: Gateway | None = None) -> FastAPI:
    """The gateway's app for ``config`` (default: ``$TWOKEY_GATEWAY_CONFIG``, set by
    ``twokey serve`` for its worker processes); ``gateway`` (tests) is used as it is."""
    modules = [import_module(f"twokey.gateway.{name}") for name in FEATURES]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = gateway or Gateway(config or GatewayConfig.from_environment())
        for module in modules:
            setup = getattr(module, "setup", None)
            if setup is not None:
                setup(state)
        app.state.gateway = state
        if gateway is None:
            _freeze_startup_objects()
        try:
            yield
        finally:
            for module in reversed(modules):
                stop = getattr(module, "shutdown", None)
                if stop is not None:
                    stop(state)
            state.close()

    app = FastAPI(
        title="twokey gateway",
        version=__version__,
        description="Separation of duties for deploys: checks, evidence, deploy requests, "
        "approvals and authorizations, every decision recorded in a tamper-evident log.",
        lifespan=lifespan,
    )
    _add_error_handlers(app)
    for module in modules:
        router = getattr(module, "router", None)
        if router is not None:
            app.include_router(router)
    app.add_middleware(FastChecks, errors=_error_answer)  # innermost: after the body limit
    limit = (config.max_body if config else None) or 1 << 20
    app.add_middleware(BodyLimit, limit=limit)
    app.add_middleware(RequestMetrics)  # outermost: every answer is counted and timed
    return app


def app_from_environment() -> FastAPI:
    """The uvicorn factory of ``twokey serve`` (``twokey.gateway:app_from_environment``)."""
    return create_app(GatewayConfig.from_environment())
