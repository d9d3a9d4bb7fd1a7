"""DSSE: the pre-authentication encoding against the specification, and envelope parsing."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from tests.unit.evidence.support import VECTORS
from twokey.evidence import MAX_ENVELOPE_BYTES, PAYLOAD_TYPE, Envelope, EvidenceError, Reason, pae

SPEC = json.loads((VECTORS / "dsse" / "hello-world.json").read_text())


def test_pae_matches_the_dsse_specification_vector() -> None:
    assert pae(SPEC["payloadType"], SPEC["payload"].encode()) == SPEC["pae"].encode()


def test_the_specification_envelope_verifies_over_our_pae() -> None:
    """The spec's ECDSA signature holds over our PAE of the envelope's decoded payload."""
    envelope = Envelope.parse(json.dumps(SPEC["envelope"]).encode(), payload_type=None)
    key = SPEC["key"]
    private = ec.derive_private_key(int(key["d"]), ec.SECP256R1())
    numbers = private.public_key().public_numbers()
    assert (numbers.x, numbers.y) == (int(key["x"]), int(key["y"]))
    message = pae(envelope.payload_type, envelope.payload)
    # RFC 6979 signing is deterministic: signing our PAE reproduces the spec's signature.
    der = private.sign(message, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    r, s = decode_dss_signature(der)
    assert r.to_bytes(32, "big") + s.to_bytes(32, "big") == envelope.signatures[0].sig


@pytest.mark.parametrize(
    ("payload_type", "payload", "expected"),
    [
        ("", b"", b"DSSEv1 0  0 "),
        ("t", b"\x00\xff", b"DSSEv1 1 t 2 \x00\xff"),
        ("ü", b"x", "DSSEv1 2 ü 1 x".encode()),
        (PAYLOAD_TYPE, b"{}", b"DSSEv1 28 application/vnd.in-toto+json 2 {}"),
    ],
    ids=["empty", "binary-body", "utf8-type-counts-bytes", "in-toto"],
)
def test_pae_lengths_count_bytes(payload_type: str, payload: bytes, expected: bytes) -> None:
    assert pae(payload_type, payload) == expected


GOOD = {
    "payloadType": PAYLOAD_TYPE,
    "payload": "e30=",
    "signatures": [{"keyid": "", "sig": "AA=="}],
}


def _with(**changes: object) -> bytes:
    return json.dumps({**GOOD, **changes}).encode()


BAD = {
    "not-json": (b"{nope", Reason.MALFORMED_ENVELOPE, "not JSON"),
    "not-utf8": (b"\xff\xfe", Reason.MALFORMED_ENVELOPE, "not JSON"),
    "not-an-object": (b"[1]", Reason.MALFORMED_ENVELOPE, "not a JSON object"),
    "no-payload-type": (_with(payloadType=None), Reason.MALFORMED_ENVELOPE, "payloadType missing"),
    "wrong-payload-type": (
        _with(payloadType="text/plain"),
        Reason.WRONG_PAYLOAD_TYPE,
        "payloadType 'text/plain'",
    ),
    "no-signatures-key": (
        json.dumps({"payloadType": PAYLOAD_TYPE, "payload": "e30="}).encode(),
        Reason.NO_SIGNATURES,
        "no signature",
    ),
    "zero-signatures": (_with(signatures=[]), Reason.NO_SIGNATURES, "no signature"),
    "too-many-signatures": (
        _with(signatures=[{"sig": "AA=="}] * 17),
        Reason.OVERSIZED,
        "more than 16",
    ),
    "payload-not-base64": (_with(payload="!!!"), Reason.MALFORMED_ENVELOPE, "not valid base64"),
    "payload-missing": (_with(payload=None), Reason.MALFORMED_ENVELOPE, "payload missing"),
    "sig-not-base64": (
        _with(signatures=[{"sig": "%%"}]),
        Reason.MALFORMED_ENVELOPE,
        "sig is not valid base64",
    ),
    "signature-not-object": (
        _with(signatures=["AA=="]),
        Reason.MALFORMED_ENVELOPE,
        "not an object",
    ),
    "keyid-not-string": (
        _with(signatures=[{"keyid": 7, "sig": "AA=="}]),
        Reason.MALFORMED_ENVELOPE,
        "keyid",
    ),
    "oversized": (
        _with(padding="x" * MAX_ENVELOPE_BYTES),
        Reason.OVERSIZED,
        f"limit {MAX_ENVELOPE_BYTES}",
    ),
}


@pytest.mark.parametrize(("data", "reason", "message"), BAD.values(), ids=BAD.keys())
def test_bad_envelopes_are_refused_with_a_code(data: bytes, reason: Reason, message: str) -> None:
    with pytest.raises(EvidenceError) as caught:
        Envelope.parse(data)
    assert caught.value.reason is reason
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{reason.value}: ")


def test_payload_bytes_are_kept_exactly_as_received() -> None:
    payload = b'{"b": 1,   "a": 2}'  # not canonical: verification must not re-serialise
    data = _with(payload=base64.b64encode(payload).decode())
    assert Envelope.parse(data).payload == payload


def test_statement_must_be_a_json_object() -> None:
    envelope = Envelope.parse(_with(payload=base64.b64encode(b"[]").decode()))
    with pytest.raises(EvidenceError, match="MALFORMED_STATEMENT: payload is not a JSON object"):
        envelope.statement()
