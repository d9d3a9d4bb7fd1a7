"""What the web UI's pages show, computed without FastAPI: plain data for the templates.

The pages read the same sources as the API: deploy requests (``DeployService``), the ledger
(entries, checkpoints, inclusion proofs) and the trusted policy. Nothing here decides anything;
the engine's decisions are shown as recorded, each finding with the rule (file:line, and the
line itself from the trusted policy) and what would satisfy it.
"""

from __future__ import annotations

__all__ = [
    "EntryRow",
    "Finding",
    "Stage",
    "entry_row",
    "explain_findings",
    "proof_of",
    "search_entries",
    "stages",
]

import base64
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twokey.ledger import Ledger

SCAN = 2000  # how many of the newest entries a search reads (the page says so)
KINDS = ("decision", "deploy", "evidence", "gateway", "review", "landed", "forge", "policy", "note")


@dataclass(frozen=True)
class Finding:
    """One finding as the page explains it."""

    code: str
    severity: str
    message: str
    satisfy: str
    where: str  # "file:line" of the rule, "" when the engine named none
    source: str  # that line of the trusted policy, "" when unknown
    people: tuple[str, ...] = ()


def explain_findings(decision: dict[str, Any], policy_text: str) -> list[Finding]:
    """The decision's findings, denies first, each with its rule's place and source line."""
    lines = policy_text.splitlines()
    out = []
    for raw in decision.get("findings", []) or []:
        if not isinstance(raw, dict):
            continue
        rule = raw.get("rule") if isinstance(raw.get("rule"), dict) else None
        where, source = "", ""
        if rule is not None:
            line = int(rule.get("line") or 0)
            where = f"{str(rule.get('file', '')).removeprefix('. ')}:{line}"
            source = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        out.append(
            Finding(
                str(raw.get("code", "")),
                str(raw.get("severity", "")),
                str(raw.get("message", "")),
                str(raw.get("satisfy", "")),
                where,
                source,
                tuple(str(p) for p in raw.get("people", []) or []),
            )
        )
    order = {"deny": 0, "warn": 1, "info": 2}
    return sorted(out, key=lambda f: order.get(f.severity, 3))


@dataclass
class Stage:
    """One stage of the chain of custody: what happened, and whether it holds."""

    key: str
    title: str
    items: list[dict[str, Any]] = field(default_factory=list)
    status: str = "ok"  # ok | missing | blocked | waiting
    note: str = ""


_STAGES = (
    ("commit", "Commits and authors"),
    ("approval", "Approvals and approvers"),
    ("check", "Checks"),
    ("provenance", "Build provenance"),
    ("request", "Deploy request"),
    ("deploy-approval", "Deploy approval"),
    ("decision", "Decision"),
    ("authorization", "Deploy authorization"),
)
# The finding codes that break each stage (the page marks the stage blocked and says why).
_BLOCKS = {
    "commit": {"REF_NOT_DEPLOYABLE", "UNKNOWN_AUTHOR", "UNSIGNED_COMMIT"},
    "approval": {"INSUFFICIENT_APPROVALS", "STALE_APPROVAL"},
    "check": {"CHECK_MISSING", "CHECK_FAILED"},
    "provenance": {"NO_PROVENANCE", "UNTRUSTED_BUILDER"},
    "request": {
        "UNAUTHORIZED_DEPLOYER",
        "DEPLOYER_IS_AUTHOR",
        "DEPLOYER_IS_APPROVER",
        "FREEZE_WINDOW",
        "UNKNOWN_ENVIRONMENT",
        "BREAK_GLASS",
        "BREAK_GLASS_DENIED",
    },
    "deploy-approval": {
        "INSUFFICIENT_DEPLOY_APPROVALS",
        "DEPLOY_APPROVER_CONFLICT",
        "DEPLOY_SELF_APPROVAL",
        "TOO_FEW_ELIGIBLE",
    },
}


_DECIDED = {"pending": "waiting", "denied": "blocked", "rejected": "blocked", "failed": "blocked"}


def stages(timeline: list[dict[str, Any]], findings: list[Finding], state: str) -> list[Stage]:
    """The chain of custody (``DeployView.timeline()``) grouped into its stages, in order:
    commits and authors, approvals, checks, build provenance, the request, deploy approvals,
    the decision, the authorization. A stage a finding names is marked with that finding."""
    out = {key: Stage(key, title) for key, title in _STAGES}
    for step in timeline:
        stage = out.get(str(step.get("step", "")))
        if stage is not None:
            stage.items.append(step)
    for key, codes in _BLOCKS.items():
        hit = [f for f in findings if f.code in codes]
        if hit:
            stage = out[key]
            deny = any(f.severity == "deny" for f in hit)
            stage.status = "blocked" if deny else "warn"
            stage.note = "; ".join(f"{f.code}: {f.message}" for f in hit)
    if state == "pending" and out["deploy-approval"].status == "blocked":
        out["deploy-approval"].status = "waiting"
    for key in ("check", "provenance", "deploy-approval", "authorization"):
        if not out[key].items and out[key].status == "ok":
            out[key].status = "missing"
    out["decision"].status = _DECIDED.get(state, "ok")
    if out["authorization"].status == "missing" and state != "authorized":
        out["authorization"].note = f"none: the request is {state}"
    return list(out.values())


@dataclass(frozen=True)
class EntryRow:
    """One ledger entry as a line of the ledger page."""

    index: int
    kind: str
    time: str
    door: str
    subject: str
    verdict: str
    text: str  # the entry's bytes as text (what the text search matches)


def entry_row(index: int, data: bytes) -> EntryRow:
    """A summary of one entry's exact bytes (an unreadable entry says so)."""
    text = data.decode("utf-8", "replace")
    try:
        entry = json.loads(text)
        body = entry.get("body", {})
        kind = str(entry.get("kind", "?"))
        stamp = str(entry.get("time", ""))
    except (ValueError, AttributeError):
        return EntryRow(index, "unreadable", "", "", "not a JSON entry", "", text)
    if not isinstance(body, dict):
        body = {}
    decision = body.get("decision")
    verdict = str(decision.get("verdict", "")) if isinstance(decision, dict) else ""
    return EntryRow(index, kind, stamp, str(body.get("door", "")), _subject(body), verdict, text)


def _subject(body: dict[str, Any]) -> str:
    """What an entry is about, in a few words."""
    if "ref" in body and "new" in body:
        return f"{body.get('repository', '')} {body['ref']} → {str(body['new'])[:12]}"
    if "environment" in body:
        who = body.get("deployer") or body.get("actor") or ""
        event = body.get("event", "deploy")
        return (
            f"{event} {body.get('id', '')} {body.get('environment')} "
            f"{str(body.get('commit', ''))[:12]} {who}"
        ).replace("  ", " ")
    if "entry" in body:
        return f"review of entry {body['entry']}"
    if "action" in body and "person" in body:  # access: a sign-in, a code, a token
        return f"{body['action']} {body['person']} ({body.get('method', '')})"
    for key in ("subject", "event", "digest", "kind"):
        if key in body:
            return str(body[key])[:120]
    return ", ".join(sorted(body))[:120]


def search_entries(
    ledger: Ledger, kind: str = "", subject: str = "", text: str = "", limit: int = 50
) -> tuple[list[EntryRow], int]:
    """The newest entries (at most ``limit``) among the last ``SCAN`` that match every given
    filter: the kind exactly, the subject and the text as case-insensitive substrings.
    Returns them newest first, and how many entries were read."""
    size = ledger.size()
    start = max(0, size - SCAN)
    rows = [entry_row(i, d) for i, d in ledger.entries(start, size)]
    wanted = [
        r
        for r in reversed(rows)
        if (not kind or r.kind == kind)
        and (not subject or subject.lower() in r.subject.lower())
        and (not text or text.lower() in r.text.lower())
    ]
    return wanted[:limit], len(rows)


def proof_of(ledger: Ledger, index: int) -> dict[str, Any]:
    """What the page needs to verify entry ``index`` itself (RFC 9162 §2.1.3.2): the entry's
    exact bytes, the inclusion proof, and the tree it proves membership in: the latest signed
    checkpoint that covers the entry, else the current tree head (marked unsigned)."""
    data = ledger.entry(index)
    checkpoint = ledger.latest_checkpoint(covering=index + 1)
    if checkpoint is not None:
        size, root, note = checkpoint.size, checkpoint.root, checkpoint.note
        origin = note.split("\n", 1)[0]
    else:
        size, root = ledger.head()
        note, origin = "", ""
    return {
        "index": index,
        "size": size,
        "leaf": base64.b64encode(data).decode(),
        "proof": [h.hex() for h in ledger.inclusion_proof(index, size)],
        "root": root.hex(),
        "checkpoint": note,
        "origin": origin,
        "signed": checkpoint is not None,
    }
