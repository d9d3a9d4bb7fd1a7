"""``/healthz`` (the process answers) and ``/readyz`` (it can decide and record).

``/readyz`` fails (503) naming each unusable part: the database, the ledger, the signing key,
the trusted policy of the repository (when the gateway has one). A load balancer sends work
only to a ready process; a process that is not ready still denies every request it gets.
"""

from __future__ import annotations

__all__ = ["router"]

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from twokey.errors import TwokeyError
from twokey.gateway._auth import gateway_of
from twokey.gateway._state import Gateway, key_mode_ok

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="the process is up")
def healthz() -> dict[str, str]:
    """Always ``{"status": "ok"}`` while the process serves requests."""
    return {"status": "ok"}


def _problems(gateway: Gateway) -> dict[str, str]:
    problems: dict[str, str] = {}
    try:
        gateway.db.rows("SELECT 1 FROM twokey_gateway_tokens LIMIT 1")  # a table, not just SQL
    except TwokeyError as exc:
        problems["database"] = exc.message
    try:
        gateway.ledger().size()
    except Exception as exc:  # any failure: not ready
        gateway.ledger_failed()
        problems["ledger"] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if not key_mode_ok(gateway.config.key_path):
        problems["key"] = f"{gateway.config.key_path} is missing or readable by others"
    if gateway.config.repo is not None:
        try:
            gateway.policy()
        except TwokeyError as exc:
            problems["policy"] = exc.message
    return problems


@router.get("/readyz", summary="the process can decide and record")
def readyz(request: Request) -> JSONResponse:
    """200 ``{"status": "ready"}``, or 503 with what is unusable."""
    problems = _problems(gateway_of(request))
    if problems:
        return JSONResponse({"status": "not ready", "problems": problems}, status_code=503)
    return JSONResponse({"status": "ready"})
