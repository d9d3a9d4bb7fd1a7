"""``twokey._sha2`` gives the digests ``hashlib`` gives (ADR 0031)."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from twokey import _sha2


@given(parts=st.lists(st.binary(max_size=300), max_size=5))
def test_the_digests_are_hashlibs(parts: list[bytes]) -> None:
    whole = b"".join(parts)
    assert _sha2.sha256(whole).hexdigest() == hashlib.sha256(whole).hexdigest()
    assert _sha2.sha512(whole).digest() == hashlib.sha512(whole).digest()
    incremental = _sha2.sha256()
    for part in parts:
        incremental.update(part)
    assert incremental.hexdigest() == hashlib.sha256(whole).hexdigest()
