"""The remembered Ed25519 verifications answer exactly as verifying again, whatever was asked
before (tampered signatures, messages and keys included)."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from twokey.evidence import _verify
from twokey.evidence._verify import ed25519_verifies

KEYS = [ed25519.Ed25519PrivateKey.generate() for _ in range(3)]


def _really(key: ed25519.Ed25519PublicKey, sig: bytes, message: bytes) -> bool:
    try:
        key.verify(sig, message)
    except InvalidSignature:
        return False
    return True


_ASK = st.tuples(
    st.integers(0, 2),  # who signed
    st.integers(0, 2),  # whose key verifies
    st.binary(max_size=64),  # the message signed
    st.one_of(st.none(), st.binary(max_size=64)),  # the message verified (None: the same)
    st.one_of(st.none(), st.integers(0, 63)),  # a signature byte flipped
)


@settings(max_examples=300, deadline=None)
@given(asks=st.lists(_ASK, min_size=1, max_size=20), small=st.booleans())
def test_remembered_answers_are_the_real_ones(
    asks: list[tuple[int, int, bytes, bytes | None, int | None]], small: bool
) -> None:
    if small:  # a tiny bound: emptied again and again between the asks
        _verify._VERIFIED_MAX = 2
    try:
        for signer, verifier, signed, verified, flip in asks:
            sig = bytearray(KEYS[signer].sign(signed))
            if flip is not None:
                sig[flip] ^= 0x01
            message = signed if verified is None else verified
            key = KEYS[verifier].public_key()
            for _ in range(2):  # asked twice: the second may come from memory
                assert ed25519_verifies(key, bytes(sig), message) == _really(
                    key, bytes(sig), message
                )
    finally:
        _verify._VERIFIED_MAX = 4096
        assert len(_verify._VERIFIED) <= 4096
