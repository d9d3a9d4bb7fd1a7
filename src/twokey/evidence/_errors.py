"""Why a piece of evidence was refused: stable codes, one error type."""

from __future__ import annotations

__all__ = ["EvidenceError", "Reason"]

import enum

from twokey.errors import VerificationError


class Reason(enum.StrEnum):
    """Stable codes for refused evidence (shown as ``CODE: detail``)."""

    MALFORMED_ENVELOPE = "MALFORMED_ENVELOPE"
    OVERSIZED = "OVERSIZED"
    WRONG_PAYLOAD_TYPE = "WRONG_PAYLOAD_TYPE"
    NO_SIGNATURES = "NO_SIGNATURES"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    UNKNOWN_SIGNER = "UNKNOWN_SIGNER"
    KEY_REVOKED = "KEY_REVOKED"
    KEY_EXPIRED = "KEY_EXPIRED"
    FUTURE_DATED = "FUTURE_DATED"
    WEAK_KEY = "WEAK_KEY"
    MALFORMED_STATEMENT = "MALFORMED_STATEMENT"
    SUBJECT_MISMATCH = "SUBJECT_MISMATCH"
    DUPLICATE_SIGNATURE = "DUPLICATE_SIGNATURE"


class EvidenceError(VerificationError):
    """Evidence that cannot be accepted; ``reason`` is its stable code."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
