"""DSSE envelopes (github.com/secure-systems-lab/dsse, protocol v1) and their signatures.

PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, LEN as ASCII decimal.
A signature is either a raw Ed25519 signature over PAE (``keyid`` = the key's SHA256
fingerprint) or an SSHSIG blob over PAE in namespace ``twokey``, which carries its own key.
"""

from __future__ import annotations

__all__ = ["NAMESPACE", "PAYLOAD_TYPE", "Envelope", "Signature", "pae"]

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from twokey._evidence_refs import MAX_ENVELOPE_BYTES, loads_bounded
from twokey.evidence._errors import EvidenceError, Reason

PAYLOAD_TYPE = "application/vnd.in-toto+json"
NAMESPACE = "twokey"
MAX_SIGNATURES = 16


def too_big(size: int) -> EvidenceError:
    """The refusal of an envelope over the one size limit every reader applies."""
    return EvidenceError(
        Reason.OVERSIZED, f"envelope is too big: {size} bytes (limit {MAX_ENVELOPE_BYTES})"
    )


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


@dataclass(frozen=True)
class Signature:
    """One DSSE signature: key id (may be empty) and signature bytes."""

    keyid: str
    sig: bytes


@dataclass(frozen=True)
class Envelope:
    """A parsed DSSE envelope; ``payload`` holds the exact decoded bytes that were signed."""

    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...]

    @classmethod
    def parse(cls, data: bytes, payload_type: str | None = PAYLOAD_TYPE) -> Envelope:
        """Parse untrusted envelope bytes (bounded, strict base64).

        Args:
            data: the envelope's JSON bytes, exactly as received.
            payload_type: the only payload type accepted; ``None`` accepts any (for the
                DSSE specification's own test vector, which is not an in-toto statement).

        Raises:
            EvidenceError: OVERSIZED, MALFORMED_ENVELOPE, WRONG_PAYLOAD_TYPE or NO_SIGNATURES.
        """
        if len(data) > MAX_ENVELOPE_BYTES:
            raise too_big(len(data))
        try:
            raw = loads_bounded(data)
        except ValueError as exc:  # includes UnicodeDecodeError and too deep
            raise EvidenceError(Reason.MALFORMED_ENVELOPE, f"not JSON: {exc}") from exc
        if not isinstance(raw, dict):
            raise EvidenceError(Reason.MALFORMED_ENVELOPE, "envelope is not a JSON object")
        kind = raw.get("payloadType")
        if not isinstance(kind, str):
            raise EvidenceError(Reason.MALFORMED_ENVELOPE, "payloadType missing")
        if payload_type is not None and kind != payload_type:
            raise EvidenceError(
                Reason.WRONG_PAYLOAD_TYPE, f"payloadType {kind!r}, expected {payload_type!r}"
            )
        signatures = raw.get("signatures")
        if not isinstance(signatures, list) or not signatures:
            raise EvidenceError(Reason.NO_SIGNATURES, "the envelope carries no signature")
        if len(signatures) > MAX_SIGNATURES:
            raise EvidenceError(Reason.OVERSIZED, f"more than {MAX_SIGNATURES} signatures")
        return cls(
            kind,
            _b64(raw.get("payload"), "payload"),
            tuple(_signature(s) for s in signatures),
        )

    def pae(self) -> bytes:
        """The bytes every signature of this envelope covers."""
        return pae(self.payload_type, self.payload)

    def to_json(self) -> bytes:
        """The envelope's JSON bytes (as stored)."""
        return json.dumps(
            {
                "payloadType": self.payload_type,
                "payload": base64.b64encode(self.payload).decode(),
                "signatures": [
                    {"keyid": s.keyid, "sig": base64.b64encode(s.sig).decode()}
                    for s in self.signatures
                ],
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()

    def statement(self) -> dict[str, Any]:
        """The payload as JSON (call only after a signature verified)."""
        try:
            value = loads_bounded(self.payload)
        except ValueError as exc:  # includes UnicodeDecodeError
            raise EvidenceError(Reason.MALFORMED_STATEMENT, f"payload is not JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise EvidenceError(Reason.MALFORMED_STATEMENT, "payload is not a JSON object")
        return value


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise EvidenceError(Reason.MALFORMED_ENVELOPE, f"{what} missing")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EvidenceError(Reason.MALFORMED_ENVELOPE, f"{what} is not valid base64") from exc


def _signature(raw: Any) -> Signature:
    if not isinstance(raw, dict):
        raise EvidenceError(Reason.MALFORMED_ENVELOPE, "a signature is not an object")
    keyid = raw.get("keyid", "")
    if not isinstance(keyid, str):
        raise EvidenceError(Reason.MALFORMED_ENVELOPE, "keyid is not a string")
    return Signature(keyid, _b64(raw.get("sig"), "sig"))
