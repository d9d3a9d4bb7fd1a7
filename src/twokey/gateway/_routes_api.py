"""``POST /v1/checks`` (judge a ref update for CI) and ``POST /v1/evidence`` (submit evidence).

A check is ``twokey check`` served: the hook's gate judges ``ref`` moving from ``old`` to
``new`` with the trusted policy of the repository's protected default branch (never the
caller's, never the base's: a base is any commit the caller names, and an old commit may carry
a looser policy), the evidence in the repository's evidence refs, and the gateway's clock. The
decision is in the ledger before it is answered; a ledger that cannot be written answers 503
with a deny. Allow and deny are both 200: the verdict is in the body.

Evidence is verified on the way in, over the exact bytes received, against the trusted policy's
keys: a bad envelope is a 4xx naming the reason's code and nothing is stored. A good one is
recorded in the ledger first (an ``evidence`` entry with the envelope's bytes), then stored
under its own ref in the repository's evidence refs, where every door reads evidence.
"""

from __future__ import annotations

__all__ = ["CHECKERS", "CheckBody", "Checked", "answer", "check", "router"]

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from twokey.errors import TwokeyError
from twokey.gateway import _metrics
from twokey.gateway._auth import Caller, authenticated, gateway_of
from twokey.model import ZERO_SHA, FindingCode

if TYPE_CHECKING:
    from twokey.doors import Judgement, Report, TrustedPolicy
    from twokey.gateway._state import Gateway
    from twokey.git import GitReader, RefUpdate

router = APIRouter(tags=["checks and evidence"])
# Checks run on a few threads of their own: dozens of threads taking turns at the GIL cost
# more than they overlap (a check is mostly Python); a few keep group commits batching.
CHECKERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="twokey-check")

DOOR = "gateway-check"
EVIDENCE_DOOR = "gateway-evidence"
_OID = r"^([0-9a-f]{40}|[0-9a-f]{64})$"
_CONTENT_TYPES = {
    "sarif": "application/sarif+json",
    "junit": "application/xml",
    "github": "text/plain; charset=utf-8",
    "text": "text/plain; charset=utf-8",
}
# Refusals of the envelope's form (400) versus of what it claims or who signed it (422).
_MALFORMED = frozenset(
    {"MALFORMED_ENVELOPE", "WRONG_PAYLOAD_TYPE", "NO_SIGNATURES", "MALFORMED_STATEMENT"}
)


class CheckBody(BaseModel):
    """A ref update: ``ref`` moving from ``old`` (zeros: created) to ``new`` (full ids)."""

    model_config = ConfigDict(extra="forbid")

    ref: str = Field(pattern=r"^refs/[^\s\x00-\x1f]+$", max_length=1024)
    old: str = Field(pattern=_OID)
    new: str = Field(pattern=_OID)


Format = Literal["json", "sarif", "junit", "github", "text"]
Checked = tuple["Report", list[int], int]  # the report, its ledger indexes, the HTTP status


@router.post("/v1/checks", summary="judge a ref update (as twokey check does)")
async def post_check(
    body: CheckBody,
    request: Request,
    caller: Annotated[Caller, Depends(authenticated)],
    format: Annotated[Format, Query()] = "json",
) -> Response:
    """The decision for the update, recorded in the ledger before it is answered.

    200 with ``verdict`` allow or deny; 422 when a commit is not in the gateway's repository;
    503 (deny) when the ledger or the trusted policy is unusable.
    """
    gateway = gateway_of(request)
    del caller  # authenticated; a check asks, it pushes nothing (no pusher is recorded)
    loop = asyncio.get_running_loop()
    report, indexes, status = await loop.run_in_executor(CHECKERS, check, gateway, body)
    if format != "json":
        from twokey.doors import ReportFormat, render  # noqa: PLC0415

        text = render(ReportFormat(format), report)
        return Response(text, status_code=status, media_type=_CONTENT_TYPES[format])
    return JSONResponse(answer(report, indexes), status_code=status)


def check(gateway: Gateway, body: CheckBody) -> Checked:
    """Judge, record, count: ``(report, ledger indexes, HTTP status)``."""
    from twokey.doors import Judgement as _Judgement  # noqa: PLC0415
    from twokey.doors import (  # noqa: PLC0415
        Report,
        door_deny,
        through_symrefs,
    )

    reader = _reader(gateway)
    update = _update(reader, body)
    try:
        # Judged as the ref that would move: a symbolic ref on the server is a second name
        # for its target, and a push to it moves the target (as the hook judges it).
        (update,), _ = through_symrefs(reader.git, [update])
        trusted = gateway.policy(reader)
    except TwokeyError as exc:  # no usable policy: nothing can be decided (fail closed)
        decision = door_deny(update.subject, FindingCode.MALFORMED_INPUT, exc.message, exc.hint)
        report = Report((_Judgement(update, decision),), gateway.repository, "")
        return _record(gateway, report, status=503)
    judgement = _judge(gateway, reader, trusted, update)
    report = Report((judgement,), gateway.repository, trusted.origin)
    return _record(gateway, report, status=200)


def _reader(gateway: Gateway) -> GitReader:
    """The repository's reader, its read-only answers cached while its refs stay put."""
    from twokey.gateway._gitcache import cached_reader  # noqa: PLC0415

    if gateway.config.repo is None:
        return gateway.reader()  # raises: no repository
    return cached_reader(gateway.config.repo)


def _update(reader: GitReader, body: CheckBody) -> RefUpdate:
    """The ref update, once both commits are known to be in the repository (422 if not)."""
    from twokey.git import RefUpdate  # noqa: PLC0415

    named = [(n, s) for n, s in (("old", body.old), ("new", body.new)) if set(s) != {"0"}]
    stdin = "".join(f"{sha}\n" for _, sha in named).encode()
    out = reader.git.call(["cat-file", "--batch-check"], stdin=stdin).out.decode().splitlines()
    for (name, sha), line in zip(named, [*out, *[""] * len(named)], strict=False):
        fields = line.split()
        if len(fields) != 3 or fields[:2] != [sha, "commit"]:
            raise HTTPException(
                422,
                f"{name} {sha} is not a commit of the gateway's repository: push it "
                "(and its evidence refs) to the repository the gateway serves first",
            )
    old = ZERO_SHA if set(body.old) == {"0"} else body.old
    new = ZERO_SHA if set(body.new) == {"0"} else body.new
    try:
        return RefUpdate(body.ref, old, new)
    except ValueError as exc:
        raise HTTPException(422, f"bad ref update: {exc}") from exc


def _judge(
    gateway: Gateway, reader: GitReader, trusted: TrustedPolicy, update: RefUpdate
) -> Judgement:
    """The hook's gate, over the gateway's repository, its evidence refs and its clock; keys
    are judged when the gateway's ledger first received the evidence (ADR 0013), as the hook
    does with the same ledger."""
    from functools import partial  # noqa: PLC0415

    from twokey.doors import Gate, ledger_receipts  # noqa: PLC0415
    from twokey.gateway._gitcache import cached_envelopes  # noqa: PLC0415

    gate = Gate(
        reader=reader,
        trusted=trusted,
        repository=gateway.repository,
        now=gateway.now(),
        envelopes=cached_envelopes(reader),
        default_ref=gateway.default_ref(reader),
        signatures=True,
        reviewed_only=update.old,  # only the base the caller names counts as reviewed
        receipts=partial(ledger_receipts, gateway.config.database_url),
    )
    return gate.judge(update)


def _record(gateway: Gateway, report: Report, *, status: int) -> tuple[Report, list[int], int]:
    """The report once its decision is in the ledger; a 503 deny when it cannot be."""
    from twokey.doors import Judgement, Report, door_deny, ledger_entries  # noqa: PLC0415

    now = gateway.now()
    entries = ledger_entries(
        report.judgements, door=DOOR, repository=report.repository, pusher=None, now=now
    )
    try:
        indexes = gateway.record(entries)
    except TwokeyError as exc:  # fail closed: a decision that is not recorded does not stand
        judgements = tuple(
            Judgement(
                j.update,
                door_deny(
                    j.decision.subject,
                    FindingCode.INTERNAL_ERROR,
                    exc.message,
                    exc.hint or "the gateway's database is unusable (see /readyz)",
                ),
            )
            for j in report.judgements
        )
        report = Report(judgements, report.repository, report.policy_origin)
        indexes, status = [], 503
    for j in report.judgements:
        _metrics.observe_decision(DOOR, j.decision)
    return report, indexes, status


def answer(report: Report, indexes: list[int]) -> dict[str, Any]:
    """``{verdict, findings, counted, excluded, policy, ledger_index}`` of the one update."""
    decision = report.judgements[0].decision.to_dict()
    return {
        "verdict": decision["verdict"],
        "ref": report.judgements[0].update.ref,
        "findings": decision["findings"],
        "counted": decision["counted"],
        "excluded": decision["excluded"],
        "evidence": list(report.judgements[0].evidence),
        "policy": report.policy_origin,
        "repository": report.repository,
        "ledger_index": indexes[-1] if indexes else None,
    }


@router.post(
    "/v1/evidence",
    status_code=201,
    summary="submit an evidence envelope (verified on the way in)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
            "description": "a DSSE envelope, exactly as signed (twokey approve/attest)",
        }
    },
)
async def post_evidence(
    request: Request, caller: Annotated[Caller, Depends(authenticated)]
) -> JSONResponse:
    """Verify the envelope (the exact bytes of the body) against the trusted policy's keys;
    record it in the ledger; store it under its ref in the repository's evidence refs.

    201 ``{ref, subject, signers, kinds, ledger_index}``; 400 malformed; 422 refused (unknown
    signer, bad signature, another repository...); 503 ledger or policy unusable (nothing
    stored).
    """
    data = await request.body()
    gateway = gateway_of(request)
    answer = await run_in_threadpool(_accept_evidence, gateway, data, caller)
    return JSONResponse(answer, status_code=201)


def _accept_evidence(gateway: Gateway, data: bytes, caller: Caller) -> dict[str, Any]:
    from twokey.evidence import GitEvidenceStore, ref_for  # noqa: PLC0415
    from twokey.ledger import EvidenceRecord, to_entry  # noqa: PLC0415

    reader = gateway.reader()
    trusted = gateway.policy()
    subject, items = _verified(gateway, reader, trusted.policy, data)
    ref = ref_for(subject, data)
    blob = reader.git.run("hash-object", "-w", "--stdin", stdin=data).decode().strip()
    record = EvidenceRecord(
        EVIDENCE_DOOR,
        gateway.repository,
        ref=ref,
        object=blob,
        envelope=data,
        source=f"POST /v1/evidence by {caller.kind} {caller.subject}",
    )
    indexes = gateway.record([to_entry(record, gateway.now())])  # before it is stored
    GitEvidenceStore(reader.git.git_dir, reader.git).put(data, subject)
    return {
        "ref": ref,
        "subject": subject,
        "evidence": "sha256:" + ref.rsplit("/", 1)[1],
        "signers": sorted({_principal(trusted.policy, item.signer) for item in items}),
        "kinds": sorted({type(item).__name__ for item in items}),
        "ledger_index": indexes[-1],
    }


def _principal(policy: Any, alias: Any) -> str:
    """Who a verified key belongs to (the policy's person or service id)."""
    found = policy.resolve(alias)
    return str(found.id) if found is not None else str(alias)


def _verified(
    gateway: Gateway, reader: GitReader, policy: Any, data: bytes
) -> tuple[str, list[Any]]:
    """``(subject, verified items)``, or the 4xx naming the first refusal."""
    from twokey.evidence import (  # noqa: PLC0415
        Envelope,
        EvidenceError,
        StoredEnvelope,
        ref_for,
        verify_envelope,
    )

    try:
        subject = _subject(Envelope.parse(data).statement())
        items = verify_envelope(
            StoredEnvelope(data, ref_for(subject, data)), policy, at=gateway.now()
        )
    except EvidenceError as exc:
        raise HTTPException(400 if exc.reason.value in _MALFORMED else 422, str(exc)) from exc
    for item in items:
        why = _replayed(gateway, reader, item)
        if why:
            raise HTTPException(422, why)
    return subject, items


def _subject(statement: Any) -> str:
    """Where the envelope is filed: its commit, else its tree, else its artifact digest
    (``verify_envelope`` then checks the statement is about it, and every subject's form)."""
    from twokey.evidence import EvidenceError, Reason  # noqa: PLC0415

    found: dict[str, str] = {}
    subjects = statement.get("subject") if isinstance(statement, dict) else None
    for subject in subjects if isinstance(subjects, list) else ():
        digest = subject.get("digest") if isinstance(subject, dict) else None
        for algo, value in digest.items() if isinstance(digest, dict) else ():
            if isinstance(value, str) and value:
                found.setdefault(str(algo), value)
    for algo in ("gitCommit", "gitTree"):
        value = found.get(algo, "")
        if value:
            return value
    if found.get("sha256"):
        return "sha256:" + found["sha256"]
    raise EvidenceError(Reason.MALFORMED_STATEMENT, "no gitCommit, gitTree or sha256 subject")


def _replayed(gateway: Gateway, reader: GitReader, item: Any) -> str:
    """Why a verified statement is evidence for something else (another repository, or an
    approval binding a commit of this repository to another tree), if it is."""
    claimed = getattr(item, "repository", None)
    if claimed is not None and claimed != gateway.repository:
        return (
            f"SUBJECT_MISMATCH: the statement is for repository {claimed!r}, "
            f"this gateway serves {gateway.repository!r}"
        )
    commit, tree = getattr(item, "commit", None), getattr(item, "tree", None)
    if commit and tree and reader.resolve(f"{commit}^{{commit}}") is not None:
        real = reader.tree_of(commit)
        if real != tree:
            return f"SUBJECT_MISMATCH: the approval claims tree {tree[:12]} for {commit[:12]}"
    return ""
