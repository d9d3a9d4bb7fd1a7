"""Signed evidence: in-toto statements in DSSE envelopes, Ed25519 and SSHSIG signatures,
verification against the policy's keys, commit signatures, and storage in git refs."""

from twokey.evidence._commitsig import verify_commit_signature
from twokey.evidence._dsse import NAMESPACE, PAYLOAD_TYPE, Envelope, pae
from twokey.evidence._errors import EvidenceError, Reason
from twokey.evidence._gitstore import (
    EVIDENCE_PREFIX,
    GitEvidenceStore,
    normalise_url,
    ref_for,
    repository_id,
)
from twokey.evidence._sign import sign_approval, sign_check, sign_deploy_approval, sign_provenance
from twokey.evidence._signers import Ed25519Signer, Signer, SshSigner, generate_key, load_signer
from twokey.evidence._sshsig import fingerprint, parse_sshsig, sign_sshsig, verify_sshsig
from twokey.evidence._verify import (
    StoredEnvelope,
    VerifiedEvidence,
    verify_envelope,
    verify_envelopes,
)

__all__ = [
    "EVIDENCE_PREFIX",
    "NAMESPACE",
    "PAYLOAD_TYPE",
    "Ed25519Signer",
    "Envelope",
    "EvidenceError",
    "GitEvidenceStore",
    "Reason",
    "Signer",
    "SshSigner",
    "StoredEnvelope",
    "VerifiedEvidence",
    "fingerprint",
    "generate_key",
    "load_signer",
    "normalise_url",
    "pae",
    "parse_sshsig",
    "ref_for",
    "repository_id",
    "sign_approval",
    "sign_check",
    "sign_deploy_approval",
    "sign_provenance",
    "sign_sshsig",
    "verify_commit_signature",
    "verify_envelope",
    "verify_envelopes",
    "verify_sshsig",
]
