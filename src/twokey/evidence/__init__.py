"""Signed evidence: in-toto statements in DSSE envelopes, Ed25519 and SSHSIG signatures,
verification against the policy's keys, git's allowed_signers, commit signatures, and
storage in git refs. See docs/evidence.md and docs/adr/0004-evidence-format-and-storage.md.

Names are imported on first use (PEP 562), as in ``twokey.git``: a door that verifies an
Ed25519 envelope imports neither the signers nor the SSH signature code (issue 10 item 9).
"""

from __future__ import annotations

# Not ``typing.TYPE_CHECKING``: importing typing costs start-up time (see twokey.git).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from twokey._evidence_refs import ARTIFACT_PREFIX, EVIDENCE_PREFIX, MAX_ENVELOPE_BYTES
    from twokey.evidence._allowed import AllowedSigner, AllowedSigners, allowed_signers_text
    from twokey.evidence._commitsig import verify_commit_signature
    from twokey.evidence._dsse import NAMESPACE, PAYLOAD_TYPE, Envelope, pae
    from twokey.evidence._errors import EvidenceError, Reason
    from twokey.evidence._gitstore import (
        GitEvidenceStore,
        normalise_url,
        ref_for,
        repository_id,
    )
    from twokey.evidence._predicates import Item, signer_of
    from twokey.evidence._sign import (
        sign_approval,
        sign_break_glass_review,
        sign_check,
        sign_deploy_approval,
        sign_deploy_record,
        sign_provenance,
    )
    from twokey.evidence._signers import (
        Ed25519Signer,
        Signer,
        SshKeygenSigner,
        SshSigner,
        generate_key,
        load_signer,
    )
    from twokey.evidence._sshsig import (
        SshSignature,
        fingerprint,
        parse_sshsig,
        sign_sshsig,
        verify_sshsig,
    )
    from twokey.evidence._verify import (
        StoredEnvelope,
        VerifiedEvidence,
        check_shape,
        verify_envelope,
        verify_envelopes,
    )

_LAZY = {
    "ARTIFACT_PREFIX": "twokey._evidence_refs",
    "AllowedSigner": "twokey.evidence._allowed",
    "AllowedSigners": "twokey.evidence._allowed",
    "EVIDENCE_PREFIX": "twokey._evidence_refs",
    "Ed25519Signer": "twokey.evidence._signers",
    "Envelope": "twokey.evidence._dsse",
    "EvidenceError": "twokey.evidence._errors",
    "GitEvidenceStore": "twokey.evidence._gitstore",
    "Item": "twokey.evidence._predicates",
    "MAX_ENVELOPE_BYTES": "twokey._evidence_refs",
    "NAMESPACE": "twokey.evidence._dsse",
    "PAYLOAD_TYPE": "twokey.evidence._dsse",
    "Reason": "twokey.evidence._errors",
    "Signer": "twokey.evidence._signers",
    "SshKeygenSigner": "twokey.evidence._signers",
    "SshSignature": "twokey.evidence._sshsig",
    "SshSigner": "twokey.evidence._signers",
    "StoredEnvelope": "twokey.evidence._verify",
    "VerifiedEvidence": "twokey.evidence._verify",
    "allowed_signers_text": "twokey.evidence._allowed",
    "check_shape": "twokey.evidence._verify",
    "fingerprint": "twokey.evidence._sshsig",
    "generate_key": "twokey.evidence._signers",
    "load_signer": "twokey.evidence._signers",
    "normalise_url": "twokey.evidence._gitstore",
    "pae": "twokey.evidence._dsse",
    "parse_sshsig": "twokey.evidence._sshsig",
    "ref_for": "twokey.evidence._gitstore",
    "repository_id": "twokey.evidence._gitstore",
    "sign_approval": "twokey.evidence._sign",
    "sign_break_glass_review": "twokey.evidence._sign",
    "sign_check": "twokey.evidence._sign",
    "sign_deploy_approval": "twokey.evidence._sign",
    "sign_deploy_record": "twokey.evidence._sign",
    "sign_provenance": "twokey.evidence._sign",
    "sign_sshsig": "twokey.evidence._sshsig",
    "signer_of": "twokey.evidence._predicates",
    "verify_commit_signature": "twokey.evidence._commitsig",
    "verify_envelope": "twokey.evidence._verify",
    "verify_envelopes": "twokey.evidence._verify",
    "verify_sshsig": "twokey.evidence._sshsig",
}

__all__ = [
    "ARTIFACT_PREFIX",
    "EVIDENCE_PREFIX",
    "MAX_ENVELOPE_BYTES",
    "NAMESPACE",
    "PAYLOAD_TYPE",
    "AllowedSigner",
    "AllowedSigners",
    "Ed25519Signer",
    "Envelope",
    "EvidenceError",
    "GitEvidenceStore",
    "Item",
    "Reason",
    "Signer",
    "SshKeygenSigner",
    "SshSignature",
    "SshSigner",
    "StoredEnvelope",
    "VerifiedEvidence",
    "allowed_signers_text",
    "check_shape",
    "fingerprint",
    "generate_key",
    "load_signer",
    "normalise_url",
    "pae",
    "parse_sshsig",
    "ref_for",
    "repository_id",
    "sign_approval",
    "sign_break_glass_review",
    "sign_check",
    "sign_deploy_approval",
    "sign_deploy_record",
    "sign_provenance",
    "sign_sshsig",
    "signer_of",
    "verify_commit_signature",
    "verify_envelope",
    "verify_envelopes",
    "verify_sshsig",
]


# mypy sees only the typed imports above; at run time the names load on first use (PEP 562).
if not TYPE_CHECKING:
    from twokey._lazy import lazy_names

    __getattr__ = lazy_names(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(__all__)
