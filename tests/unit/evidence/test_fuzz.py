"""Random and mutated envelopes and SSH signatures: a clear refusal, never a crash or an allow."""

from __future__ import annotations

import base64
import contextlib
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.evidence.support import BOB_SSH, POLICY, VECTORS, approval, stored
from twokey.errors import ConfigError
from twokey.evidence import (
    AllowedSigners,
    Envelope,
    EvidenceError,
    parse_sshsig,
    signer_of,
    verify_envelope,
    verify_envelopes,
    verify_sshsig,
)

GOOD = [approval(), approval(BOB_SSH)]
SSH_SIGS = [
    (VECTORS / "sshsig" / f"{n}.sig").read_bytes() for n in ("ed25519", "ecdsa-p256", "rsa-2048")
]
MESSAGE = (VECTORS / "sshsig" / "message.bin").read_bytes()
FAST = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _mutated(samples: list[bytes]) -> st.SearchStrategy[bytes]:
    """One byte replaced, a slice deleted, or a prefix kept, of a valid sample."""

    def mutate(sample: bytes, at: int, value: int, op: int) -> bytes:
        at %= len(sample)
        if op == 0:
            return sample[:at] + bytes([value]) + sample[at + 1 :]
        if op == 1:
            return sample[:at] + sample[at + value :]
        return sample[:at]

    return st.builds(
        mutate,
        st.sampled_from(samples),
        st.integers(0, 1 << 16),
        st.integers(0, 255),
        st.integers(0, 2),
    )


def _payload_mutated() -> st.SearchStrategy[bytes]:
    """A valid envelope whose decoded payload bytes were changed (signature kept)."""

    def swap(sample: bytes, at: int, value: int) -> bytes:
        raw = json.loads(sample)
        payload = bytearray(base64.b64decode(raw["payload"]))
        payload[at % len(payload)] = value
        raw["payload"] = base64.b64encode(bytes(payload)).decode()
        return json.dumps(raw).encode()

    return st.builds(swap, st.sampled_from(GOOD), st.integers(0, 1 << 16), st.integers(0, 255))


@FAST
@given(st.binary(max_size=2048) | _mutated(GOOD))
def test_random_and_mutated_envelopes_never_crash(data: bytes) -> None:
    try:
        items = verify_envelope(stored(data), POLICY)
    except EvidenceError:
        return
    # a mutation can survive only outside the signed bytes (e.g. in the unauthenticated keyid)
    assert all(POLICY.resolve(signer_of(i)) is not None for i in items)
    assert Envelope.parse(data).payload in {Envelope.parse(g).payload for g in GOOD}


@FAST
@given(_payload_mutated())
def test_changed_payload_bytes_never_verify(data: bytes) -> None:
    if Envelope.parse(data).payload in {Envelope.parse(g).payload for g in GOOD}:
        return  # the byte was replaced by itself
    result = verify_envelopes([stored(data)], POLICY)
    assert result.count == 0
    assert len(result.rejected) == 1


@FAST
@given(st.binary(max_size=600).map(lambda b: b"SSHSIG" + b) | _mutated(SSH_SIGS))
def test_random_and_mutated_ssh_signatures_never_crash(data: bytes) -> None:
    with contextlib.suppress(EvidenceError):
        sig = parse_sshsig(data)
        verify_sshsig(sig, MESSAGE, "twokey")
        # only whitespace in the armor may change: the signed blob must be the original one
        assert sig in {parse_sshsig(s) for s in SSH_SIGS}


@FAST
@given(st.text(max_size=300))
def test_random_allowed_signers_text_never_crashes(text: str) -> None:
    with contextlib.suppress(ConfigError):
        AllowedSigners.parse(text)
