"""Signed evidence: in-toto statements in DSSE envelopes, Ed25519 and SSHSIG signatures,
verification against the policy's keys, git's allowed_signers, commit signatures, and
storage in git refs. See docs/evidence.md and docs/adr/0004-evidence-format-and-storage.md."""

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
