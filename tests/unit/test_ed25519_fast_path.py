"""The canonical ssh-ed25519 fast path (``twokey._ed25519``) against cryptography's parser.

Whatever the fast path accepts, the parser accepts as the same key with the same OpenSSH text;
and every door that uses it (the policy's key check, the model's canonical key alias, the
evidence verifier's key loader) answers exactly as it does through the parser (ADR 0031).
"""

from __future__ import annotations

import base64
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_ssh_public_key,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from twokey._ed25519 import raw_key
from twokey.evidence import EvidenceError, Reason
from twokey.evidence._sshsig import _load_key, _parse_key
from twokey.model import Alias
from twokey.policy._principals import _check_with_parser, check_public_key


def _s(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


def _line(raw: bytes, kind: bytes = b"ssh-ed25519") -> str:
    return base64.b64encode(_s(kind) + _s(raw)).decode()


def _parsed(kind: str, blob: str) -> object:
    try:
        return load_ssh_public_key(f"{kind} {blob}".encode())
    except Exception:
        return None


_MUTATION = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 67), st.sampled_from("AQgw+/=Z9a._ -")),
    st.tuples(st.just("cut"), st.integers(0, 67), st.just("")),
    st.tuples(st.just("add"), st.integers(0, 68), st.sampled_from(["A", "=", "==", " ", "é"])),
)


def _mutate(blob: str, mutation: tuple[str, int, str]) -> str:
    how, at, text = mutation
    if how == "flip":
        return blob[:at] + text + blob[at + 1 :]
    if how == "cut":
        return blob[:at]
    return blob[:at] + text + blob[at:]


@settings(max_examples=400)
@given(raw=st.binary(min_size=32, max_size=32))
def test_every_canonical_line_takes_the_fast_path_and_means_the_same_key(raw: bytes) -> None:
    blob = _line(raw)
    assert raw_key("ssh-ed25519", blob) == raw
    key = load_ssh_public_key(f"ssh-ed25519 {blob}".encode())
    assert isinstance(key, ed25519.Ed25519PublicKey)
    assert key.public_bytes_raw() == raw
    assert key.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode() == (
        f"ssh-ed25519 {blob}"
    )


@settings(max_examples=1500)
@given(
    raw=st.binary(min_size=30, max_size=34),
    kind=st.sampled_from([b"ssh-ed25519", b"ssh-ed25518", b"ssh-rsa", b"SSH-ED25519", b""]),
    outer=st.sampled_from(["ssh-ed25519", "ssh-rsa", "ssh-ed25519 ", "sk-ssh-ed25519@openssh.com"]),
    trailer=st.binary(max_size=3),
    mutations=st.lists(_MUTATION, max_size=2),
)
def test_whatever_the_fast_path_accepts_the_parser_accepts_as_that_key(
    raw: bytes, kind: bytes, outer: str, trailer: bytes, mutations: list[tuple[str, int, str]]
) -> None:
    blob = base64.b64encode(_s(kind) + _s(raw) + trailer).decode()
    for mutation in mutations:
        blob = _mutate(blob, mutation)
    fast = raw_key(outer, blob)
    if fast is None:
        return  # the callers run the parser, as before
    key = _parsed(outer, blob)
    assert isinstance(key, ed25519.Ed25519PublicKey)
    assert key.public_bytes_raw() == fast
    assert key.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode() == f"{outer} {blob}"


@settings(max_examples=300)
@given(
    raw=st.binary(min_size=32, max_size=32),
    mutations=st.lists(_MUTATION, max_size=2),
    comment=st.sampled_from(["", " alice@example.com", "  x y"]),
)
def test_the_doors_answer_as_through_the_parser(
    raw: bytes, mutations: list[tuple[str, int, str]], comment: str
) -> None:
    blob = _line(raw)
    for mutation in mutations:
        blob = _mutate(blob, mutation)
    text = f"ssh-ed25519 {blob}{comment}"
    parts = text.split()
    # The policy's key check.
    slow_check = _check_with_parser(parts[0], parts[1]) if len(parts) >= 2 else None
    if slow_check is not None:
        assert check_public_key(text) == slow_check
    # The evidence verifier's key loader.
    refused: Reason | None = None
    try:
        slow = _parse_key(parts[:2])
    except EvidenceError as exc:
        refused = exc.reason
        with pytest.raises(EvidenceError) as caught:
            _load_key(" ".join(parts[:2]))
    else:
        fast = _load_key(" ".join(parts[:2]))
        assert isinstance(fast, ed25519.Ed25519PublicKey)
        assert isinstance(slow, ed25519.Ed25519PublicKey)
        assert fast.public_bytes_raw() == slow.public_bytes_raw()
    if refused is not None:
        assert caught.value.reason == refused
    # The model's canonical key alias (the parser's text, or the text as given).
    if len(parts) >= 2:
        key = _parsed(parts[0], parts[1])
        expected = (
            f"{parts[0]} {parts[1]}"
            if key is None
            else key.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()  # type: ignore[attr-defined]
        )
        assert Alias.key(text).value == expected


def test_a_non_canonical_line_is_left_to_the_parser() -> None:
    raw = bytes(range(32))
    blob = _line(raw)
    assert raw_key("ssh-ed25519", blob + "=") is None  # padding the parser may forgive
    assert raw_key("ssh-ed25519", blob[:-1]) is None
    assert raw_key("ssh-rsa", blob) is None
    assert raw_key("ssh-ed25519", _line(raw, b"ssh-rsa")) is None
    assert (
        raw_key("ssh-ed25519", base64.b64encode(_s(b"ssh-ed25519") + _s(raw[:31])).decode()) is None
    )
