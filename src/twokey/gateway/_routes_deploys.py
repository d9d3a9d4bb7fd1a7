"""The deploy API: ``/v1/deploys`` (request, list, show, approve, reject, cancel, authorization)
and ``/v1/key`` (the gateway's verifier key, for ``twokey deploy verify``).

Every route needs an authenticated caller (401 without one); approving and rejecting need a
person (403 for a service token). The requester is always the caller, never a body field.
Bodies are strict: an unknown field, a wrong type or a missing field is a 422 that changes
nothing. See :mod:`twokey.gateway._deploys` for the states and docs/gateway.md "Deploys".
"""

from __future__ import annotations

__all__ = ["router"]

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from twokey.gateway._auth import Caller, authenticated, gateway_of, person
from twokey.gateway._deploys import DeployService, DeployView

router = APIRouter(tags=["deploys"])


class DeployBody(BaseModel):
    """``POST /v1/deploys``: what to deploy where (the requester is the caller)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    environment: str = Field(max_length=100)
    commit: str = Field(max_length=64)
    artifact: str = Field(max_length=71)
    break_glass: str | None = Field(default=None, max_length=1000)


class RejectBody(BaseModel):
    """``POST /v1/deploys/{id}/reject``: why."""

    model_config = ConfigDict(extra="forbid", strict=True)

    reason: str = Field(max_length=1000)


def _service(request: Request) -> DeployService:
    return DeployService(gateway_of(request))


def _answer(service: DeployService, view: DeployView, caller: Caller) -> dict[str, Any]:
    """The view, and what the caller may do with it (``you``)."""
    data = view.to_dict()
    if caller.person is not None:
        ok, why = service.may_act(view, caller.person)
        rejects = service.may_reject(view, caller.person)[0]
    else:
        ok, why, rejects = False, f"{caller.subject} is a service", False
    cancels = service.may_cancel(view, caller)[0]
    data["you"] = {"may_approve": ok, "why": why, "may_reject": rejects, "may_cancel": cancels}
    return data


@router.post("/v1/deploys", status_code=201)
def request_deploy(
    body: DeployBody, request: Request, caller: Annotated[Caller, Depends(authenticated)]
) -> JSONResponse:
    """Request a deploy; the gateway decides at once (pending, denied or authorized)."""
    service = _service(request)
    view = service.request(caller, body.environment, body.commit, body.artifact, body.break_glass)
    return JSONResponse(_answer(service, view, caller), status_code=201)


@router.get("/v1/deploys")
def list_deploys(
    request: Request,
    caller: Annotated[Caller, Depends(authenticated)],
    state: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """The newest deploy requests (in ``state`` when given)."""
    service = _service(request)
    return {"deploys": [_answer(service, v, caller) for v in service.list(state, limit)]}


@router.get("/v1/deploys/{deploy_id}")
def show_deploy(
    deploy_id: str, request: Request, caller: Annotated[Caller, Depends(authenticated)]
) -> dict[str, Any]:
    """One deploy request, its decision and its chain of custody."""
    service = _service(request)
    return _answer(service, service.get(deploy_id), caller)


@router.post("/v1/deploys/{deploy_id}/approve")
def approve_deploy(
    deploy_id: str, request: Request, caller: Annotated[Caller, Depends(person)]
) -> dict[str, Any]:
    """Approve as an operator who neither wrote nor approved the release (403 otherwise)."""
    service = _service(request)
    return _answer(service, service.approve(deploy_id, caller), caller)


@router.post("/v1/deploys/{deploy_id}/reject")
def reject_deploy(
    deploy_id: str,
    body: RejectBody,
    request: Request,
    caller: Annotated[Caller, Depends(person)],
) -> dict[str, Any]:
    """Refuse a pending request, with a reason (an approver or deployer of the environment)."""
    service = _service(request)
    return _answer(service, service.reject(deploy_id, caller, body.reason), caller)


@router.post("/v1/deploys/{deploy_id}/cancel")
def cancel_deploy(
    deploy_id: str, request: Request, caller: Annotated[Caller, Depends(authenticated)]
) -> dict[str, Any]:
    """Withdraw a request (the requester only)."""
    service = _service(request)
    return _answer(service, service.cancel(deploy_id, caller), caller)


@router.get("/v1/deploys/{deploy_id}/authorization", response_model=None)
def deploy_authorization(
    deploy_id: str,
    request: Request,
    _caller: Annotated[Caller, Depends(authenticated)],
    format: Annotated[str, Query(pattern="^(text|json)$")] = "text",
) -> PlainTextResponse | JSONResponse:
    """The signed deploy authorization (a C2SP signed note; ``?format=json``: in a JSON
    object); 409 unless authorized."""
    note = _service(request).authorization(deploy_id)
    if format == "json":
        return JSONResponse({"authorization": note})
    return PlainTextResponse(note, media_type="text/plain; charset=utf-8")


@router.get("/v1/key", response_class=PlainTextResponse)
def verifier_key(request: Request) -> PlainTextResponse:
    """The gateway's verifier key (public): checkpoints and deploy authorizations."""
    key = gateway_of(request).signer.verifier().text()
    return PlainTextResponse(key + "\n", media_type="text/plain; charset=utf-8")
