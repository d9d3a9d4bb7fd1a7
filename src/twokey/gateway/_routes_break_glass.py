"""Break-glass exceptions in the gateway's ledger, and their after-the-fact reviews.

A deploy requested with ``break_glass`` is recorded as every deploy door's (a ``deploy`` entry
with the engine's ``BREAK_GLASS`` finding), so ``twokey break-glass list --ledger URL`` and the
audit see it as an open exception until someone else reviews it (invariant 6, ADR 0009).

``GET /v1/break-glass`` lists them (open or reviewed). ``POST /v1/break-glass/{entry}/review``
takes a review signed with the reviewer's own key (the envelope ``twokey break-glass review``
signs; a DSSE envelope in ``{"envelope": "..."}``) and appends it as a ``review`` entry, when:
the entry is a break-glass; the envelope verifies against the trusted policy and names exactly
that entry (index and SHA-256 of its bytes); its signer is the authenticated caller; and the
engine counts the review (a person, not the one who broke glass, one of the policy's
``break_glass_reviewers`` when it names them). A review is signed evidence, so the audit
verifies it from the ledger alone, like every other review.
"""

from __future__ import annotations

__all__ = ["router"]

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from twokey.errors import TwokeyError
from twokey.gateway._auth import Caller, authenticated, gateway_of, person
from twokey.gateway._state import Gateway

router = APIRouter(tags=["break-glass"])


class ReviewBody(BaseModel):
    """``POST /v1/break-glass/{entry}/review``: the signed review envelope (DSSE JSON)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    envelope: str = Field(max_length=65536)


@router.get("/v1/break-glass")
def list_break_glass(
    request: Request, _caller: Annotated[Caller, Depends(authenticated)]
) -> dict[str, Any]:
    """Every break-glass in the gateway's ledger, open or reviewed."""
    from twokey.audit import read_exceptions  # noqa: PLC0415

    gateway = gateway_of(request)
    policy = gateway.policy().policy
    found = read_exceptions(gateway.config.database_url, policy)
    rows = []
    for exception in found.resolve(policy):
        principal = policy.resolve(exception.actor)
        row = exception.to_dict(principal.id if principal else str(exception.actor))
        # What a review signs (the digest of the entry's exact bytes): twokey break-glass
        # review --gateway signs it; the review route checks it against the bytes again.
        rows.append(row | {"entry_sha256": exception.entry_sha256})
    return {"exceptions": rows, "open": sum(1 for r in rows if not r["reviewed"])}


@router.post("/v1/break-glass/{entry}/review", status_code=201)
def review_break_glass(
    entry: int, body: ReviewBody, request: Request, caller: Annotated[Caller, Depends(person)]
) -> JSONResponse:
    """Append a signed review of break-glass ``entry`` by the caller (403 when it does not
    count, 404 when the entry is no break-glass, 400 for an envelope about something else)."""
    from twokey.engine import evaluate_review  # noqa: PLC0415
    from twokey.ledger import ReviewRecord, to_entry  # noqa: PLC0415

    gateway = gateway_of(request)
    policy = gateway.policy().policy
    data, exception = _exception_at(gateway, entry)
    envelope = body.envelope.encode()
    review = _review_of(envelope, policy, entry, hashlib.sha256(data).hexdigest())
    signer = policy.resolve(review.signer)
    if signer is None or signer.id != caller.person:
        who = signer.id if signer is not None else str(review.signer)
        raise HTTPException(403, f"the review is signed by {who}, not by {caller.person}")
    decision = evaluate_review(policy, exception.actor, review)
    if not decision.allowed:
        raise HTTPException(403, decision.findings[0].message)
    [index] = gateway.record([to_entry(ReviewRecord("gateway", entry, envelope), gateway.now())])
    return JSONResponse(
        {"entry": entry, "review_entry": index, "reviewer": signer.id, "verdict": review.verdict},
        status_code=201,
    )


def _exception_at(gateway: Gateway, entry: int) -> tuple[bytes, Any]:
    from twokey.audit import exception_of  # noqa: PLC0415
    from twokey.ledger import DecisionRecord, DeployRecord, parse_entry, read_record  # noqa: PLC0415

    ledger = gateway.ledger()
    if not 0 <= entry < ledger.size():
        raise HTTPException(404, f"the ledger has no entry {entry}")
    data = ledger.entry(entry)
    parsed = parse_entry(data)
    record = read_record(parsed)
    found = None
    if isinstance(record, DecisionRecord | DeployRecord):
        found = exception_of(entry, data, parsed.time, record)
    if found is None:
        raise HTTPException(404, f"ledger entry {entry} records no break-glass")
    return data, found


def _review_of(envelope: bytes, policy: Any, entry: int, digest: str) -> Any:
    from twokey.evidence import StoredEnvelope, verify_envelope  # noqa: PLC0415
    from twokey.model import BreakGlassReview  # noqa: PLC0415

    try:
        items = verify_envelope(StoredEnvelope(envelope, "the review"), policy)
    except TwokeyError as exc:
        raise HTTPException(400, f"the review envelope does not verify: {exc.message}") from exc
    reviews = [i for i in items if isinstance(i, BreakGlassReview)]
    if not reviews:
        raise HTTPException(400, "the envelope is no break-glass review")
    review = reviews[0]
    if (review.entry, review.entry_sha256) != (entry, digest):
        raise HTTPException(
            400, f"the review is about entry {review.entry} (or other bytes), not entry {entry}"
        )
    return review
