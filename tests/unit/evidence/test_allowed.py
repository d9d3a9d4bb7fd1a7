"""git's allowed_signers format: parsing, pattern lists, namespaces, validity, and writing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.unit.evidence.support import POLICY, key_of, public
from twokey.errors import ConfigError
from twokey.evidence import (
    AllowedSigner,
    AllowedSigners,
    EvidenceError,
    Reason,
    allowed_signers_text,
    parse_sshsig,
    sign_sshsig,
)
from twokey.evidence._allowed import match_pattern_list

BOB = public("bob")
WHEN = datetime(2026, 6, 1, tzinfo=UTC)

LINES = {
    "plain": (f"bob@example.com {BOB}", AllowedSigner(("bob@example.com",), BOB)),
    "comment-and-principals": (
        f"bob@example.com,bob@users.example {BOB} bob@laptop",
        AllowedSigner(("bob@example.com", "bob@users.example"), BOB),
    ),
    "namespaces": (
        f'* namespaces="git,twokey" {BOB}',
        AllowedSigner(("*",), BOB, ("git", "twokey")),
    ),
    "validity-utc": (
        f'bob valid-after="20260101Z",valid-before="202612312359Z" {BOB}',
        AllowedSigner(
            ("bob",),
            BOB,
            valid_after=datetime(2026, 1, 1, tzinfo=UTC),
            valid_before=datetime(2026, 12, 31, 23, 59, tzinfo=UTC),
        ),
    ),
    "cert-authority": (
        f"*@example.com cert-authority {BOB}",
        AllowedSigner(("*@example.com",), BOB, cert_authority=True),
    ),
}


@pytest.mark.parametrize(("line", "expected"), LINES.values(), ids=LINES.keys())
def test_lines_parse(line: str, expected: AllowedSigner) -> None:
    [signer] = AllowedSigners.parse(f"# a comment\n\n{line}\n").signers
    assert signer == AllowedSigner(
        expected.principals,
        expected.public_key,
        expected.namespaces,
        expected.valid_after,
        expected.valid_before,
        expected.cert_authority,
        line=3,
    )


BAD_LINES = {
    "no-key": ("bob@example.com", "missing key"),
    "unknown-option": (f"bob nope {BOB}", "unsupported option 'nope'"),
    "bad-time": (f'bob valid-after="2026" {BOB}', "bad time '2026'"),
    "quoted-principal": (f'"bob" {BOB}', "quoted principals are not supported"),
    "bad-key": ("bob ssh-ed25519 !!!!", "bad public key encoding"),
}


@pytest.mark.parametrize(("line", "message"), BAD_LINES.values(), ids=BAD_LINES.keys())
def test_bad_lines_name_file_and_line(line: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        AllowedSigners.parse(f"\n{line}\n", "signers.txt")
    assert str(caught.value).startswith("signers.txt:2: ")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("value", "patterns", "expected"),
    [
        ("bob@example.com", ["*@example.com"], True),
        ("bob@example.com", ["?ob@example.com"], True),
        ("bob@example.org", ["*@example.com"], False),
        ("bob@example.com", ["*@example.com", "!bob@*"], False),
        ("git", ["git", "twokey"], True),
        ("gi", ["git"], False),
        ("a.b", ["a?b"], True),
    ],
    ids=["star", "question", "no-match", "negated", "list", "prefix-only", "dot-literal"],
)
def test_pattern_lists(value: str, patterns: list[str], expected: bool) -> None:
    assert match_pattern_list(value, patterns) is expected


def _signers(options: str = "") -> AllowedSigners:
    return AllowedSigners.parse(f"bob@example.com {options} {BOB}\n".replace("  ", " "))


CASES = {
    "allowed": ("", "bob@example.com", "twokey", WHEN, None),
    "wrong-principal": ("", "eve@example.com", "twokey", WHEN, Reason.UNKNOWN_SIGNER),
    "namespace-not-listed": (
        'namespaces="git"',
        "bob@example.com",
        "twokey",
        WHEN,
        Reason.KEY_EXPIRED,
    ),
    "not-yet-valid": (
        'valid-after="20270101Z"',
        "bob@example.com",
        "twokey",
        WHEN,
        Reason.KEY_EXPIRED,
    ),
    "expired": ('valid-before="20260101Z"', "bob@example.com", "twokey", WHEN, Reason.KEY_EXPIRED),
    "inside-window": (
        'valid-after="20260101Z",valid-before="20270101Z"',
        "bob@example.com",
        "twokey",
        WHEN,
        None,
    ),
}


@pytest.mark.parametrize(
    ("options", "principal", "namespace", "when", "refusal"), CASES.values(), ids=CASES.keys()
)
def test_verify_like_ssh_keygen(
    options: str, principal: str, namespace: str, when: datetime, refusal: Reason | None
) -> None:
    sig = parse_sshsig(sign_sshsig(key_of("bob"), b"msg", namespace).encode())
    signers = _signers(options)
    if refusal is None:
        line = signers.verify(sig, b"msg", namespace=namespace, principal=principal, when=when)
        assert line.public_key == BOB
        return
    with pytest.raises(EvidenceError) as caught:
        signers.verify(sig, b"msg", namespace=namespace, principal=principal, when=when)
    assert caught.value.reason is refusal


def test_verify_checks_the_signature_first() -> None:
    sig = parse_sshsig(sign_sshsig(key_of("bob"), b"msg", "twokey").encode())
    with pytest.raises(EvidenceError, match="BAD_SIGNATURE"):
        _signers().verify(sig, b"other", namespace="twokey", principal="bob@example.com", when=WHEN)


def test_find_principals() -> None:
    signers = AllowedSigners.parse(
        f"bob@example.com,bob@work.example {BOB}\ncarol@example.com {public('carol')}\n"
        f'old@example.com valid-before="20200101Z" {BOB}\n'
    )
    sig = parse_sshsig(sign_sshsig(key_of("bob"), b"msg", "git").encode())
    assert signers.find_principals(sig, "git", WHEN) == ["bob@example.com", "bob@work.example"]


def test_written_from_the_policy_and_read_back() -> None:
    text = allowed_signers_text(POLICY)
    signers = AllowedSigners.parse(text)
    by_key = {s.public_key: s for s in signers.signers}
    assert by_key[BOB].principals == ("bob@example.com",)
    assert by_key[public("bob", 1)].principals == ("bob@example.com",)  # comment dropped
    assert public("dave") not in by_key  # revoked keys are left out
    erin = by_key[public("erin")]
    assert (erin.valid_after, erin.valid_before) == (
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert erin.namespaces == ("git", "twokey")
    assert by_key[public("ci")].principals == ("ci@example.com",)
    assert all(line.render() in text for line in signers.signers)
