"""Verifying envelopes into the engine's evidence objects, against the policy's keys."""

from __future__ import annotations

__all__ = [
    "StoredEnvelope",
    "VerifiedEvidence",
    "check_shape",
    "verify_envelope",
    "verify_envelopes",
]

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from twokey import _sha2
from twokey._evidence_refs import ARTIFACT_PREFIX, EVIDENCE_PREFIX
from twokey.evidence._dsse import NAMESPACE, Envelope, Signature, pae, too_big
from twokey.evidence._errors import EvidenceError, Reason
from twokey.evidence._predicates import Item, Origin, digests, to_model
from twokey.evidence._sshsig import MAGIC, fingerprint, load_public_key, parse_sshsig, verify_sshsig
from twokey.model import (
    Alias,
    AliasKind,
    Approval,
    BreakGlassReview,
    BuildProvenance,
    CheckResult,
    DeployApproval,
    DeployRequest,
)
from twokey.policy import Policy

# How far a statement's own date may run ahead of the door's clock (clock skew between the
# signer's machine and the server); anything later is refused (ADR 0013).
FUTURE_SKEW = timedelta(minutes=5)
_EVIDENCE_REFS = EVIDENCE_PREFIX
_ARTIFACT_REFS = ARTIFACT_PREFIX


@dataclass(frozen=True)
class StoredEnvelope:
    """Envelope bytes and where they came from (a ref name or a file).

    ``size`` is the stored object's real size when a reader did not read an oversized blob
    (``data`` is then empty): it is refused as too big, by its size.
    """

    data: bytes
    source: str
    size: int | None = None

    @property
    def digest(self) -> str:
        """``sha256:<hex>`` of the exact bytes: the evidence id."""
        return "sha256:" + _sha2.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class VerifiedEvidence:
    """What verified, by kind, and what was refused: (who or where, "CODE: detail")."""

    approvals: tuple[Approval, ...] = ()
    provenance: tuple[BuildProvenance, ...] = ()
    checks: tuple[CheckResult, ...] = ()
    deploy_approvals: tuple[DeployApproval, ...] = ()
    deploys: tuple[DeployRequest, ...] = ()
    rejected: tuple[tuple[str, str], ...] = ()
    reviews: tuple[BreakGlassReview, ...] = ()

    def __post_init__(self) -> None:
        for reason in self.rejected:
            if ":" not in reason[1]:
                raise ValueError(f"a refusal reason must read 'CODE: detail': {reason[1]!r}")

    @classmethod
    def of(
        cls, items: Iterable[Item], rejected: Iterable[tuple[str, str]] = ()
    ) -> VerifiedEvidence:
        """Sort evidence objects by kind (the order within a kind is kept)."""
        listed = list(items)
        return cls(
            tuple(i for i in listed if isinstance(i, Approval)),
            tuple(i for i in listed if isinstance(i, BuildProvenance)),
            tuple(i for i in listed if isinstance(i, CheckResult)),
            tuple(i for i in listed if isinstance(i, DeployApproval)),
            tuple(i for i in listed if isinstance(i, DeployRequest)),
            tuple(rejected),
            tuple(i for i in listed if isinstance(i, BreakGlassReview)),
        )

    @property
    def count(self) -> int:
        """How many statements verified, all kinds together."""
        kinds = (
            self.approvals,
            self.provenance,
            self.checks,
            self.deploy_approvals,
            self.deploys,
            self.reviews,
        )
        return sum(len(k) for k in kinds)


_Registered = tuple[Alias, ed25519.Ed25519PublicKey | None]
_INDEX: dict[int, tuple[Policy, dict[str, _Registered]]] = {}


def _fingerprints(policy: Policy) -> Mapping[str, _Registered]:
    """Key fingerprint -> key alias, built once per policy object (the hot path looks up here)."""
    cached = _INDEX.get(id(policy))
    if cached is not None and cached[0] is policy:
        return cached[1]
    index = _fingerprint_index(tuple(a for a in policy.aliases if a.kind is AliasKind.KEY))
    if len(_INDEX) > 16:
        _INDEX.clear()
    _INDEX[id(policy)] = (policy, index)
    return index


@cache
def _fingerprint_index(keys: tuple[Alias, ...]) -> dict[str, _Registered]:
    """Fingerprint -> (alias, parsed Ed25519 key or None for other key types)."""
    out: dict[str, _Registered] = {}
    for alias in keys:
        try:
            key = load_public_key(alias.value)
            ed = key if isinstance(key, ed25519.Ed25519PublicKey) else None
            out[fingerprint(alias.value)] = (alias, ed)
        except EvidenceError:
            continue  # an unparsable or weak registered key verifies nothing
    return out


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
        if alias not in keys:  # DSSE §"(t, n)": a set of accepted keys; one key counts once
            keys.append(alias)
    if not keys:
        raise errors[0]  # Envelope.parse guarantees at least one signature
    return keys


def _verify_one(signature: Signature, message: bytes, policy: Policy) -> Alias:
    """One signature: an SSHSIG blob (carries its key) or raw Ed25519 (keyid = fingerprint)."""
    if signature.sig.startswith((MAGIC, b"-----BEGIN")):
        parsed = parse_sshsig(signature.sig)
        verify_sshsig(parsed, message, NAMESPACE)
        return Alias.key(parsed.public_key)
    # The keyid is unauthenticated (DSSE protocol): it only selects the candidate key.
    registered = _fingerprints(policy).get(signature.keyid)
    if registered is None:
        raise EvidenceError(Reason.UNKNOWN_SIGNER, f"no registered key has id {signature.keyid!r}")
    alias, key = registered
    if key is None:
        raise EvidenceError(
            Reason.BAD_SIGNATURE, "raw signatures need an Ed25519 key; other keys sign as SSHSIG"
        )
    if not ed25519_verifies(key, signature.sig, message):
        raise EvidenceError(Reason.BAD_SIGNATURE, "signature does not verify")
    return alias


# Signatures that verified, by (key, signature, SHA-256 of the message): Ed25519 verification
# is a pure function of those three, so a hit is the same answer (a server checks the same
# envelopes again and again: ~0.1 ms each). Only successes are kept, so only a registered
# key's real signatures can fill it; bounded in entries, and in bytes (the message's digest,
# not the message: an envelope may be up to the evidence size limit), emptied when full.
_VERIFIED: set[tuple[bytes, bytes, bytes]] = set()
_VERIFIED_MAX = 4096


def ed25519_verifies(key: ed25519.Ed25519PublicKey, sig: bytes, message: bytes) -> bool:
    """Whether ``sig`` is ``key``'s Ed25519 signature of ``message`` (remembered when it is)."""
    found = (key.public_bytes_raw(), sig, _sha2.sha256(message).digest())
    if found in _VERIFIED:
        return True
    try:
        key.verify(sig, message)
    except InvalidSignature:
        return False
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED.add(found)
    return True


def _check_time(item: Item, at: datetime | None) -> datetime:
    """Step 5's moment: when the door first received the statement (``at``), never the date
    the statement gives itself; a statement dated after that (beyond ``FUTURE_SKEW``) is
    refused. Without ``at`` (callers that have no door clock) the statement's own time."""
    if at is None:
        return item.time
    if item.time > at + FUTURE_SKEW:
        raise EvidenceError(
            Reason.FUTURE_DATED,
            f"statement is dated {item.time.isoformat()}, after it was received "
            f"({at.isoformat(timespec='seconds')}; {int(FUTURE_SKEW.total_seconds() // 60)} "
            "minutes of clock skew allowed)",
        )
    return at


def _check_key(policy: Policy, alias: Alias, when: datetime) -> str:
    """Step 5: a registered key, not revoked, valid at ``when``; its principal id."""
    principal = policy.resolve(alias)
    if principal is None:
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
    return principal.id


def _check_filed(env: StoredEnvelope, subjects: Mapping[str, str]) -> None:
    """Step 6: an envelope filed under a subject's ref must be about that subject."""
    if env.source.startswith(_EVIDENCE_REFS):
        filed = env.source.removeprefix(_EVIDENCE_REFS).split("/", 1)[0]
        if filed not in (subjects.get("gitCommit"), subjects.get("gitTree")):
            raise EvidenceError(
                Reason.SUBJECT_MISMATCH, f"filed under {filed[:12]} but about other objects"
            )
    elif env.source.startswith(_ARTIFACT_REFS):
        filed = env.source.removeprefix(_ARTIFACT_REFS).split("/", 1)[0]
        if filed != subjects.get("sha256"):
            raise EvidenceError(
                Reason.SUBJECT_MISMATCH, f"filed under artifact {filed[:12]} but about another"
            )


def check_shape(env: StoredEnvelope) -> None:
    """Is this a well-formed envelope about the subject its ref names? (No keys involved.)

    What the hook checks on the way in, so that nothing malformed is ever stored under
    ``refs/twokey/``: step 1 (bounded size and depth, DSSE structure), the payload as a
    bounded in-toto statement, and step 6. The statement is parsed before any signature is
    verified, but only to refuse: nothing in it is believed here.

    Raises:
        EvidenceError: the first problem, with its code.
    """
    if env.size is not None and env.size > len(env.data):
        raise too_big(env.size)
    envelope = Envelope.parse(env.data)
    _check_filed(env, digests(envelope.statement()))


def verify_envelope(
    env: StoredEnvelope, policy: Policy, *, at: datetime | None = None
) -> list[Item]:
    """Verify one envelope: one evidence object per distinct registered principal that signed.

    Steps (each marked in the code):
      1. Parse the envelope: bounded size, JSON, strict base64, payload type, 1-16 signatures.
      2. Verify each signature over PAE(payloadType, the exact decoded payload bytes), never
         over a re-serialisation.
      3. Keep the distinct keys whose signature verified (one key signing twice counts once).
      4. Only now parse the payload as an in-toto statement, into the engine's evidence object.
      5. Each key must be registered to a principal, unrevoked and valid at ``at``, the time
         the door first received the envelope (its clock, or an earlier receipt the ledger
         proves), never at the statement's self-declared time; a statement dated after ``at``
         (beyond ``FUTURE_SKEW``) is refused. Two keys of one principal give one object (a
         person counts once). Without ``at``: the statement's time (no door clock).
      6. The ref the envelope was read from must name one of its subjects.

    Raises:
        EvidenceError: with the first refusal's code when nothing in the envelope holds.
    """
    if env.size is not None and env.size > len(env.data):
        raise too_big(env.size)  # step 1: a reader left an oversized blob unread
    envelope = Envelope.parse(env.data)  # step 1
    keys = _verified_keys(envelope, policy)  # steps 2 and 3
    statement = envelope.statement()  # step 4
    subjects = digests(statement)
    _check_filed(env, subjects)  # step 6 (needs only the subjects)
    out: list[Item] = []
    seen: set[str] = set()
    evidence_id = env.digest
    first_error: EvidenceError | None = None
    for alias in keys:
        try:
            item = to_model(statement, subjects, Origin(alias, env.source, evidence_id))  # step 4
            principal = _check_key(policy, alias, _check_time(item, at))  # step 5
        except EvidenceError as exc:
            first_error = first_error or exc
            continue
        if principal not in seen:
            seen.add(principal)
            out.append(item)
    if not out:
        assert first_error is not None  # at least one key verified, so something refused it
        raise first_error
    return out


def _replayed(item: Item, repository: str | None, commit_trees: Mapping[str, str]) -> str | None:
    """Why ``item`` is evidence for something else (another repository or tree), if it is."""
    claimed = getattr(item, "repository", None)
    if repository is not None and claimed is not None and claimed != repository:
        return f"{Reason.SUBJECT_MISMATCH}: statement is for repository {claimed!r}"
    if isinstance(item, Approval):
        real = commit_trees.get(item.commit)
        if real is not None and real != item.tree:
            return (
                f"{Reason.SUBJECT_MISMATCH}: approval claims tree {item.tree[:7]} "
                f"for {item.commit[:7]}, whose tree is {real[:7]}"
            )
    return None


def verify_envelopes(
    envelopes: Iterable[StoredEnvelope],
    policy: Policy,
    *,
    repository: str | None = None,
    commit_trees: Mapping[str, str] | None = None,
    at: datetime | None = None,
    received: Mapping[str, datetime] | None = None,
) -> VerifiedEvidence:
    """Verify many envelopes; refusals are collected, never raised.

    Args:
        envelopes: what was read (from refs, files or a push).
        policy: the trusted policy, whose keys and validity windows decide.
        repository: when given, statements naming another repository are refused (replay).
        commit_trees: real trees of known commits: an approval that claims another tree for
            one of them is refused (replay of a forged binding).
        at: the door's clock: keys are judged, and future dates refused, at this time.
        received: earlier receipts by evidence id (``sha256:...``), e.g. proven by the
            ledger: such an envelope is judged at its receipt instead of ``at``.

    Returns:
        The verified objects by kind, and (source or signer, "CODE: detail") refusals.
    """
    items: list[Item] = []
    rejected: list[tuple[str, str]] = []
    for env in envelopes:
        try:
            when = (received or {}).get(env.digest, at)
            verified = verify_envelope(env, policy, at=when)
        except EvidenceError as exc:
            rejected.append((env.source, str(exc)))
            continue
        for item in verified:
            why = _replayed(item, repository, commit_trees or {})
            if why is None:
                items.append(item)
            else:
                rejected.append((env.source, why))
    return VerifiedEvidence.of(items, rejected)
