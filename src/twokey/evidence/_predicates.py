"""Statements to the engine's evidence objects, after a signature verified over them.

Every field the engine relies on is checked here: the statement type, the predicate type, the
subjects (which must not contradict each other) and the predicate fields. The subject digests
are the binding: an approval's ``gitCommit``/``gitTree`` subjects are what it approves.
"""

from __future__ import annotations

__all__ = ["Item", "Origin", "digests", "signer_of", "to_model"]

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from twokey.evidence._errors import EvidenceError, Reason
from twokey.evidence._statements import (
    APPROVAL,
    BREAK_GLASS_REVIEW,
    CHECK,
    DEPLOY,
    DEPLOY_APPROVAL,
    DIGEST,
    PROVENANCE,
    SHA,
    SLSA_PROVENANCE,
    STATEMENT_TYPE,
)
from twokey.model import (
    REVIEW_VERDICTS,
    Alias,
    Approval,
    BreakGlassReview,
    BuildProvenance,
    CheckResult,
    DeployApproval,
    DeployRequest,
    TrustLevel,
)

Item = Approval | BuildProvenance | CheckResult | DeployApproval | DeployRequest | BreakGlassReview
_MAX_TEXT = 4096


def signer_of(item: Item) -> Alias:
    """The key that signed a verified evidence object (a deploy record's deployer)."""
    return item.deployer if isinstance(item, DeployRequest) else item.signer


@dataclass(frozen=True)
class Origin:
    """Who signed the statement, where it was read from, and its evidence id."""

    signer: Alias
    source: str
    evidence_id: str


def _text(obj: Mapping[str, Any], key: str, *, optional: bool = False) -> str:
    value = obj.get(key, "" if optional else None)
    if not isinstance(value, str) or (not value and not optional):
        raise EvidenceError(Reason.MALFORMED_STATEMENT, f"predicate.{key} missing")
    if len(value) > _MAX_TEXT:
        raise EvidenceError(Reason.MALFORMED_STATEMENT, f"predicate.{key} is too long")
    return value


def _time(predicate: Mapping[str, Any], key: str = "time") -> datetime:
    try:
        when = datetime.fromisoformat(_text(predicate, key).replace("Z", "+00:00"))
    except ValueError as exc:
        raise EvidenceError(Reason.MALFORMED_STATEMENT, f"{key} is not RFC 3339") from exc
    if when.tzinfo is None:
        raise EvidenceError(Reason.MALFORMED_STATEMENT, f"{key} has no time zone")
    return when


def digests(statement: Mapping[str, Any]) -> dict[str, str]:
    """Every subject digest by algorithm; two different values of one algorithm conflict."""
    if statement.get("_type") != STATEMENT_TYPE:
        raise EvidenceError(Reason.MALFORMED_STATEMENT, "not an in-toto Statement v1")
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or not subjects:
        raise EvidenceError(Reason.MALFORMED_STATEMENT, "statement has no subject")
    out: dict[str, str] = {}
    for subject in subjects:
        digest = subject.get("digest") if isinstance(subject, dict) else None
        if not isinstance(digest, dict):
            raise EvidenceError(Reason.MALFORMED_STATEMENT, "subject without digest")
        for algo, value in digest.items():
            if not isinstance(value, str) or out.setdefault(str(algo), value) != value:
                raise EvidenceError(Reason.SUBJECT_MISMATCH, f"conflicting {algo} subjects")
    return out


def _need(found: Mapping[str, str], algo: str, pattern: re.Pattern[str]) -> str:
    value = found.get(algo, "")
    full = f"sha256:{value}" if algo == "sha256" else value
    if not pattern.match(full):
        raise EvidenceError(Reason.MALFORMED_STATEMENT, f"subject needs a valid {algo} digest")
    return full


def _commit(predicate: Mapping[str, Any]) -> str:
    commit = _text(predicate, "commit")
    if not SHA.match(commit):
        raise EvidenceError(Reason.MALFORMED_STATEMENT, "predicate.commit is not a git object id")
    return commit


def to_model(statement: Mapping[str, Any], found: Mapping[str, str], origin: Origin) -> Item:
    """The evidence object a verified statement stands for (raises EvidenceError).

    ``found`` is ``digests(statement)``, computed once by the caller.
    """
    kind, predicate = statement.get("predicateType"), statement.get("predicate")
    if not isinstance(predicate, dict):
        raise EvidenceError(Reason.MALFORMED_STATEMENT, "predicate missing")
    parse = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parse is None:
        raise EvidenceError(Reason.MALFORMED_STATEMENT, f"unknown predicateType {kind!r}")
    return parse(predicate, found, origin)


def _provenance(
    predicate: Mapping[str, Any], found: Mapping[str, str], origin: Origin
) -> BuildProvenance:
    return BuildProvenance(
        _need(found, "sha256", DIGEST),
        _text(predicate, "repository"),
        _commit(predicate),
        origin.signer,
        _time(predicate),
        TrustLevel.SIGNED,
        origin.source,
        origin.evidence_id,
    )


def _approval(predicate: Mapping[str, Any], found: Mapping[str, str], origin: Origin) -> Approval:
    if predicate.get("decision") != "approve":
        raise EvidenceError(Reason.MALFORMED_STATEMENT, "approval decision is not 'approve'")
    return Approval(
        _text(predicate, "repository"),
        _text(predicate, "ref"),
        _need(found, "gitCommit", SHA),
        _need(found, "gitTree", SHA),
        origin.signer,
        _time(predicate),
        TrustLevel.SIGNED,
        origin.source,
        _text(predicate, "comment", optional=True),
        origin.evidence_id,
    )


def _check(predicate: Mapping[str, Any], found: Mapping[str, str], origin: Origin) -> CheckResult:
    subject = _need(found, "gitTree", SHA) if "gitTree" in found else _need(found, "sha256", DIGEST)
    passed = predicate.get("passed")
    if not isinstance(passed, bool):
        raise EvidenceError(Reason.MALFORMED_STATEMENT, "predicate.passed is not a boolean")
    return CheckResult(
        _text(predicate, "name"),
        _text(predicate, "repository"),
        subject,
        passed,
        origin.signer,
        _time(predicate),
        TrustLevel.SIGNED,
        origin.source,
        origin.evidence_id,
    )


def _deploy_approval(
    predicate: Mapping[str, Any], found: Mapping[str, str], origin: Origin
) -> DeployApproval:
    return DeployApproval(
        _need(found, "sha256", DIGEST),
        _text(predicate, "environment"),
        _commit(predicate),
        origin.signer,
        _time(predicate),
        TrustLevel.SIGNED,
        origin.source,
        _text(predicate, "comment", optional=True),
        origin.evidence_id,
        _text(predicate, "repository"),  # required: an unbound deploy approval is refused
    )


def _deploy_record(
    predicate: Mapping[str, Any], found: Mapping[str, str], origin: Origin
) -> DeployRequest:
    """A deploy record is the deploy its signer carried out (requester = deployer = signer)."""
    return DeployRequest(
        _text(predicate, "request", optional=True) or origin.evidence_id,
        _text(predicate, "repository"),
        _text(predicate, "environment"),
        _need(found, "sha256", DIGEST),
        _commit(predicate),
        origin.signer,
        origin.signer,
        _time(predicate),
    )


def _review(
    predicate: Mapping[str, Any], found: Mapping[str, str], origin: Origin
) -> BreakGlassReview:
    entry = predicate.get("entry")
    if not isinstance(entry, int) or isinstance(entry, bool) or entry < 0:
        raise EvidenceError(Reason.MALFORMED_STATEMENT, "predicate.entry is not a ledger index")
    verdict = _text(predicate, "verdict")
    if verdict not in REVIEW_VERDICTS:
        raise EvidenceError(
            Reason.MALFORMED_STATEMENT, f"predicate.verdict is not one of {REVIEW_VERDICTS}"
        )
    return BreakGlassReview(
        entry,
        _need(found, "sha256", DIGEST).removeprefix("sha256:"),
        verdict,
        origin.signer,
        _time(predicate),
        _text(predicate, "comment", optional=True),
        origin.source,
        origin.evidence_id,
    )


def _slsa(
    predicate: Mapping[str, Any], found: Mapping[str, str], origin: Origin
) -> BuildProvenance:
    """SLSA provenance v1: the source is the resolved dependency with a gitCommit digest."""
    build = predicate.get("buildDefinition")
    deps = build.get("resolvedDependencies") if isinstance(build, dict) else None
    source = next(
        (
            d
            for d in (deps if isinstance(deps, list) else [])
            if isinstance(d, dict)
            and isinstance(d.get("digest"), dict)
            and isinstance(d["digest"].get("gitCommit"), str)
        ),
        None,
    )
    run = predicate.get("runDetails")
    metadata = run.get("metadata") if isinstance(run, dict) else None
    if source is None or not isinstance(metadata, dict):
        raise EvidenceError(
            Reason.MALFORMED_STATEMENT,
            "SLSA provenance needs a git source "
            "in resolvedDependencies and runDetails.metadata.startedOn",
        )
    return BuildProvenance(
        _need(found, "sha256", DIGEST),
        str(source.get("uri", "")).removeprefix("git+"),
        _commit({"commit": source["digest"]["gitCommit"]}),
        origin.signer,
        _time(metadata, "startedOn"),
        TrustLevel.SIGNED,
        origin.source,
        origin.evidence_id,
    )


_PARSERS: dict[str, Callable[[Mapping[str, Any], Mapping[str, str], Origin], Item]] = {
    APPROVAL: _approval,
    CHECK: _check,
    DEPLOY_APPROVAL: _deploy_approval,
    DEPLOY: _deploy_record,
    BREAK_GLASS_REVIEW: _review,
    PROVENANCE: _provenance,
    SLSA_PROVENANCE: _slsa,
}
