"""Verifying envelopes into the engine's evidence objects, against the policy's keys."""

from __future__ import annotations

__all__ = ["StoredEnvelope", "VerifiedEvidence", "verify_envelope", "verify_envelopes"]

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from twokey.evidence._dsse import NAMESPACE, Envelope, Signature, pae
from twokey.evidence._errors import EvidenceError, Reason
from twokey.evidence._sshsig import (
    MAGIC,
    fingerprint,
    load_public_key,
    parse_sshsig,
    verify_sshsig,
)
from twokey.evidence._statements import (
    APPROVAL,
    CHECK,
    DEPLOY_APPROVAL,
    DIGEST,
    PROVENANCE,
    SHA,
    SLSA_PROVENANCE,
    STATEMENT_TYPE,
)
from twokey.model import (
    Alias,
    AliasKind,
    Approval,
    BuildProvenance,
    CheckResult,
    DeployApproval,
    Evidence,
    TrustLevel,
)
from twokey.policy import Policy


@dataclass(frozen=True)
class StoredEnvelope:
    """Envelope bytes and where they came from (a ref name or a file)."""

    data: bytes
    source: str

    @property
    def digest(self) -> str:
        """``sha256:<hex>`` of the exact bytes: the evidence id."""
        return "sha256:" + hashlib.sha256(self.data).hexdigest()


@dataclass
class VerifiedEvidence:
    """What verified, by kind, and what was refused (who, "CODE: detail")."""

    approvals: list[Approval] = field(default_factory=list)
    provenance: list[BuildProvenance] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    deploy_approvals: list[DeployApproval] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)

    def add(self, item: Evidence) -> None:
        """File one verified object under its kind."""
        if isinstance(item, Approval):
            self.approvals.append(item)
        elif isinstance(item, BuildProvenance):
            self.provenance.append(item)
        elif isinstance(item, CheckResult):
            self.checks.append(item)
        else:
            self.deploy_approvals.append(item)


_INDEX: dict[int, tuple[Policy, dict[str, Alias]]] = {}


def _fingerprints(policy: Policy) -> Mapping[str, Alias]:
    """Key fingerprint -> key alias, built once per policy object."""
    cached = _INDEX.get(id(policy))
    if cached is not None and cached[0] is policy:
        return cached[1]
    index = _fingerprint_index(tuple(a for a in policy.aliases if a.kind is AliasKind.KEY))
    if len(_INDEX) > 16:
        _INDEX.clear()
    _INDEX[id(policy)] = (policy, index)
    return index


@cache
def _fingerprint_index(keys: tuple[Alias, ...]) -> dict[str, Alias]:
    return {fingerprint(a.value): a for a in keys}


def _verified_keys(envelope: Envelope, policy: Policy) -> list[Alias]:
    """Steps 2-3: every distinct key whose signature verifies over PAE(type, payload)."""
    message = pae(envelope.payload_type, envelope.payload)
    keys: list[Alias] = []
    errors: list[EvidenceError] = []
    for signature in envelope.signatures:
        try:
            alias = _verify_one(signature, message, policy)
        except EvidenceError as exc:
            errors.append(exc)
            continue
        if alias not in keys:  # one key signing twice counts once
            keys.append(alias)
    if not keys:
        raise errors[0] if errors else EvidenceError(Reason.NO_SIGNATURES, "no signature")
    return keys


def _verify_one(signature: Signature, message: bytes, policy: Policy) -> Alias:
    if signature.sig.startswith(MAGIC) or signature.sig.startswith(b"-----BEGIN"):
        parsed = parse_sshsig(signature.sig)
        verify_sshsig(parsed, message, NAMESPACE)
        return Alias.key(parsed.public_key)
    alias = _fingerprints(policy).get(signature.keyid)
    if alias is None:
        raise EvidenceError(Reason.UNKNOWN_SIGNER, f"no registered key has id {signature.keyid}")
    key = load_public_key(alias.value)
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise EvidenceError(
            Reason.BAD_SIGNATURE, "raw signatures need an Ed25519 key; other keys sign as SSHSIG"
        )
    try:
        key.verify(signature.sig, message)
    except InvalidSignature as exc:
        raise EvidenceError(Reason.BAD_SIGNATURE, "signature does not verify") from exc
    return alias


@dataclass(frozen=True)
class _Origin:
    signer: Alias
    source: str
    evidence_id: str


def _text(obj: Mapping[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise EvidenceError(Reason.MALFORMED_STATEMENT, f"predicate.{key} missing")
    return value


def _time(predicate: Mapping[str, Any]) -> datetime:
    try:
        when = datetime.fromisoformat(_text(predicate, "time").replace("Z", "+00:00"))
    except ValueError as exc:
        raise EvidenceError(Reason.MALFORMED_STATEMENT, "predicate.time is not RFC 3339") from exc
    if when.tzinfo is None:
        raise EvidenceError(Reason.MALFORMED_STATEMENT, "predicate.time has no time zone")
    return when


def _digests(statement: Mapping[str, Any]) -> dict[str, str]:
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


def _need(digests: Mapping[str, str], algo: str, pattern: Any) -> str:
    value = digests.get(algo, "")
    if not pattern.match(value if algo != "sha256" else f"sha256:{value}"):
        raise EvidenceError(Reason.MALFORMED_STATEMENT, f"subject needs a valid {algo} digest")
    return value if algo != "sha256" else f"sha256:{value}"


def _to_model(statement: Mapping[str, Any], signer: Alias, env: StoredEnvelope) -> Evidence:
    """Step 5: the statement, parsed only now that a signature verified over it."""
    if statement.get("_type") != STATEMENT_TYPE:
        raise EvidenceError(Reason.MALFORMED_STATEMENT, "not an in-toto Statement v1")
    kind, predicate = statement.get("predicateType"), statement.get("predicate")
    if not isinstance(predicate, dict):
        raise EvidenceError(Reason.MALFORMED_STATEMENT, "predicate missing")
    digests = _digests(statement)
    origin = _Origin(signer, env.source, env.digest)
    if kind == APPROVAL:
        return _approval(predicate, digests, origin)
    if kind == CHECK:
        return _check(predicate, digests, origin)
    if kind == DEPLOY_APPROVAL:
        return DeployApproval(
            _need(digests, "sha256", DIGEST),
            _text(predicate, "environment"),
            _text(predicate, "commit"),
            origin.signer,
            _time(predicate),
            TrustLevel.SIGNED,
            origin.source,
            str(predicate.get("comment", "")),
            origin.evidence_id,
        )
    if kind == PROVENANCE:
        return BuildProvenance(
            _need(digests, "sha256", DIGEST),
            _text(predicate, "repository"),
            _text(predicate, "commit"),
            origin.signer,
            _time(predicate),
            TrustLevel.SIGNED,
            origin.source,
            origin.evidence_id,
        )
    if kind == SLSA_PROVENANCE:
        return _slsa(predicate, digests, origin)
    raise EvidenceError(Reason.MALFORMED_STATEMENT, f"unknown predicateType {kind!r}")


def _approval(
    predicate: Mapping[str, Any], digests: Mapping[str, str], origin: _Origin
) -> Approval:
    if predicate.get("decision") != "approve":
        raise EvidenceError(Reason.MALFORMED_STATEMENT, "approval decision is not 'approve'")
    return Approval(
        _text(predicate, "repository"),
        _text(predicate, "ref"),
        _need(digests, "gitCommit", SHA),
        _need(digests, "gitTree", SHA),
        origin.signer,
        _time(predicate),
        TrustLevel.SIGNED,
        origin.source,
        str(predicate.get("comment", "")),
        origin.evidence_id,
    )


def _check(
    predicate: Mapping[str, Any], digests: Mapping[str, str], origin: _Origin
) -> CheckResult:
    subject = digests["gitTree"] if "gitTree" in digests else _need(digests, "sha256", DIGEST)
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


def _slsa(
    predicate: Mapping[str, Any], digests: Mapping[str, str], origin: _Origin
) -> BuildProvenance:
    """SLSA provenance v1: the source is the resolved dependency with a gitCommit digest."""
    build = predicate.get("buildDefinition")
    deps = build.get("resolvedDependencies") if isinstance(build, dict) else None
    source = next(
        (
            d
            for d in deps or []
            if isinstance(d, dict)
            and isinstance(d.get("digest"), dict)
            and "gitCommit" in d["digest"]
        ),
        None,
    )
    run = predicate.get("runDetails")
    metadata = run.get("metadata") if isinstance(run, dict) else None
    started = metadata.get("startedOn") if isinstance(metadata, dict) else None
    if source is None or not isinstance(started, str):
        raise EvidenceError(
            Reason.MALFORMED_STATEMENT,
            "SLSA provenance needs a git source "
            "in resolvedDependencies and runDetails.metadata.startedOn",
        )
    repository = str(source.get("uri", "")).removeprefix("git+")
    return BuildProvenance(
        _need(digests, "sha256", DIGEST),
        repository,
        str(source["digest"]["gitCommit"]),
        origin.signer,
        _time({"time": started}),
        TrustLevel.SIGNED,
        origin.source,
        origin.evidence_id,
    )


def _check_key(policy: Policy, alias: Alias, when: datetime) -> None:
    """Step 4: a registered key, not revoked, inside its validity window at statement time."""
    if policy.resolve(alias) is None:
        raise EvidenceError(
            Reason.UNKNOWN_SIGNER,
            f"key {fingerprint(alias.value)} is not registered to anyone in the policy",
        )
    validity = policy.key_validity.get(alias)
    if validity is not None and validity.revoked:
        raise EvidenceError(Reason.KEY_REVOKED, f"key {fingerprint(alias.value)} is revoked")
    if validity is not None and not validity.valid_at(when):
        raise EvidenceError(
            Reason.KEY_EXPIRED,
            f"key {fingerprint(alias.value)} was not valid at {when.isoformat()}",
        )


def verify_envelope(env: StoredEnvelope, policy: Policy) -> list[Evidence]:
    """Verify one envelope; one evidence object per distinct registered signer.

    Steps: (1) parse the envelope (bounded; payload type; at least one signature);
    (2-3) verify every signature over the exact PAE bytes, de-duplicating keys; (4) each key
    must be registered, unrevoked and valid at the statement's time; (5) parse the statement
    only then, checking subjects against the predicate. Raises EvidenceError.
    """
    envelope = Envelope.parse(env.data)  # step 1
    keys = _verified_keys(envelope, policy)
    statement = envelope.statement()
    out: list[Evidence] = []
    first_error: EvidenceError | None = None
    for alias in keys:
        try:
            item = _to_model(statement, alias, env)
            _check_key(policy, alias, item.time)
            out.append(item)
        except EvidenceError as exc:
            first_error = first_error or exc
    if not out:
        assert first_error is not None
        raise first_error
    return out


def verify_envelopes(
    envelopes: Iterable[StoredEnvelope],
    policy: Policy,
    *,
    commit_trees: Mapping[str, str] | None = None,
) -> VerifiedEvidence:
    """Verify many envelopes; refusals are collected, never raised.

    ``commit_trees`` maps commit ids to their real trees: an approval claiming another tree
    for a known commit is refused (SUBJECT_MISMATCH).
    """
    result = VerifiedEvidence()
    for env in envelopes:
        try:
            items = verify_envelope(env, policy)
        except EvidenceError as exc:
            result.rejected.append((env.source, str(exc)))
            continue
        for item in items:
            real = (
                commit_trees.get(item.commit)
                if commit_trees and isinstance(item, Approval)
                else None
            )
            if isinstance(item, Approval) and real is not None and real != item.tree:
                result.rejected.append(
                    (
                        str(item.signer),
                        f"{Reason.SUBJECT_MISMATCH}: approval "
                        f"claims tree {item.tree[:7]} for {item.commit[:7]}",
                    )
                )
                continue
            result.add(item)
    return result
