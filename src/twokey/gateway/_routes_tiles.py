"""The ledger for auditors: C2SP tlog-tiles at ``/ledger/v1/``, and the key at ``/v1/ledger/key``.

Unauthenticated: the log is public, so any verifier or witness can follow it
(``twokey ledger verify --url BASE/ledger/v1/ --key KEY``). :func:`twokey.ledger.tile` does the
work: nothing is served that no signed checkpoint covers. The gateway signs a fresh checkpoint
with its key when the log has grown since the latest one, on the first request for
``checkpoint`` after the growth (decisions are not slowed by signing; every process signs the
same tree head to the same note, so concurrent signers agree).
"""

from __future__ import annotations

__all__ = ["router"]

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from twokey.gateway._auth import gateway_of
from twokey.gateway._state import Gateway

router = APIRouter(tags=["ledger"])


@router.get("/ledger/v1/{path:path}", summary="the ledger as C2SP tlog-tiles (public)")
def ledger_tile(path: str, request: Request) -> Response:
    """``checkpoint`` (the signed tree head) or a ``tile/...`` path; 404 for anything else."""
    from twokey.ledger import tile  # noqa: PLC0415

    gateway = gateway_of(request)
    try:
        if path == "checkpoint":
            _fresh_checkpoint(gateway)
        found = tile(gateway.ledger(), path)
    except Exception:
        gateway.ledger_failed()  # reconnect on the next request (503 now)
        raise
    if found is None:
        return Response(status_code=404)
    headers = {"Cache-Control": found.cache_control}
    return Response(found.body, media_type=found.content_type, headers=headers)


@router.get("/v1/ledger/key", summary="the ledger's verifier key (public)")
def ledger_key(request: Request) -> PlainTextResponse:
    """The verifier key of the gateway's checkpoints (``twokey ledger verify --key``)."""
    return PlainTextResponse(gateway_of(request).signer.verifier().text() + "\n")


def _fresh_checkpoint(gateway: Gateway) -> None:
    """Sign the current tree head when the latest checkpoint is older (smaller) than it."""
    ledger = gateway.ledger()
    latest = ledger.latest_checkpoint()
    if latest is None or latest.size < ledger.size():
        ledger.checkpoint(gateway.signer)
