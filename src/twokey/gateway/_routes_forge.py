"""``POST /v1/forge/github`` and ``POST /v1/forge/gitlab``: the forges' webhooks.

A thin wrapper over ``twokey.forge.Receiver`` (docs/forges.md): the raw body (the app lets up
to 26 MiB through under ``/v1/forge/``; the receiver refuses more than its own 1 MiB with 413)
and the headers go to :meth:`ForgeService.receive`, in the thread pool (it verifies, records in
the ledger, judges); the answer is the receipt's status with its one reason. Errors have the
gateway's shape, ``{"error", "hint"}``; a delivery accepted answers 202
``{"result": "...", "subject": "..."}``. The forge's API is never called on this path: what
the forge must be told is queued in the outbox (``_forge_worker``).
"""

from __future__ import annotations

__all__ = ["router", "setup", "shutdown"]

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from twokey.gateway._auth import gateway_of
from twokey.gateway._forge_worker import (
    ForgeService,
    deploy_service_approvals,
    forge_service,
    register,
    unregister,
)
from twokey.gateway._state import Gateway

router = APIRouter(prefix="/v1/forge", tags=["forges"])

_HINTS = {
    401: "sign the delivery with the webhook secret the gateway is configured with",
    403: "set TWOKEY_GITHUB_WEBHOOK_SECRET / TWOKEY_GITLAB_WEBHOOK_TOKEN for twokey serve",
    400: "subscribe the webhook to the events docs/forges.md lists; send JSON",
    409: "a replay changes nothing",
    413: "twokey reads deliveries of at most 1 MiB",
    422: "the payload lacks a field twokey reads",
    503: "nothing took effect; the forge's redelivery will be applied",
}
_RESPONSES: dict[int | str, dict[str, object]] = {
    202: {"description": "recorded in the ledger, then applied: what was done"},
    400: {"description": "an event twokey does not handle, no delivery id, not JSON"},
    401: {"description": "no signature or token, or a wrong one"},
    403: {"description": "this forge's secret is not configured: every delivery is refused"},
    409: {"description": "a replayed delivery id: nothing changed"},
    413: {"description": "a body over 1 MiB"},
    422: {"description": "a payload without a field twokey reads"},
    503: {"description": "the ledger or the mirror cannot be used: nothing took effect"},
}


async def _receive(forge: str, request: Request) -> JSONResponse:
    service = forge_service(gateway_of(request))
    body = await request.body()
    receipt = await run_in_threadpool(service.receive, forge, request.headers, body)
    if receipt.status >= 400:
        error = {"error": receipt.reason}
        hint = _HINTS.get(receipt.status)
        return JSONResponse({**error, "hint": hint} if hint else error, status_code=receipt.status)
    subject = receipt.event.subject if receipt.event is not None else ""
    return JSONResponse({"result": receipt.reason, "subject": subject}, status_code=202)


@router.post(
    "/github",
    status_code=202,
    summary="a GitHub webhook delivery (X-Hub-Signature-256)",
    responses=_RESPONSES,
)
async def github(request: Request) -> JSONResponse:
    """Verified over the raw body (HMAC-SHA256), de-duplicated by ``X-GitHub-Delivery``,
    recorded in the ledger, then applied (reviews stored, pull requests judged, deployment
    protection rules answered)."""
    return await _receive("github", request)


@router.post(
    "/gitlab",
    status_code=202,
    summary="a GitLab webhook delivery (X-Gitlab-Token)",
    responses=_RESPONSES,
)
async def gitlab(request: Request) -> JSONResponse:
    """Authenticated by ``X-Gitlab-Token``, de-duplicated by ``Idempotency-Key`` (else
    ``X-Gitlab-Event-UUID``), recorded in the ledger, then applied."""
    return await _receive("gitlab", request)


def setup(gateway: Gateway) -> None:
    """Start this process's forge service (its tables, the outbox worker, the timer)."""
    service = ForgeService(gateway)
    # The deploy service's approvals count for pending forge deployments (its tables exist:
    # ``_deploys`` is set up before this module).
    service.approvals = deploy_service_approvals(gateway, service.repositories)
    service.start()
    register(gateway, service)


def shutdown(gateway: Gateway) -> None:
    """Stop the forge service's threads."""
    service = unregister(gateway)
    if service is not None:
        service.stop()
