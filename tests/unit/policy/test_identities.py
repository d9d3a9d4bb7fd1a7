"""Who a git identity stands for: sub-addresses, no-reply addresses, look-alikes (ADR 0012)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.policy.support import TAIL
from twokey.engine._cache import index_of
from twokey.model import Alias, AliasKind
from twokey.policy import PolicyError, derived_aliases, loads, skeleton

POLICY = (
    "version: 1\npeople:\n"
    "  alice: {name: Alice Smith, emails: [alice@example.com], github: alice, gitlab: alice}\n"
    "  bob: {name: Bob Jones, emails: [bob@example.com]}\n"
    "  amold: {name: Amold, emails: [amold@example.com]}\n"
    "services:\n  copilot: {github: copilot-bot, directed_by: [alice]}\n" + TAIL
)

DERIVED = {
    "sub-address": ("alice+wip@example.com", [(AliasKind.EMAIL, "alice@example.com")]),
    "sub-address-keeps-domain-case": (
        "Alice+x@Example.com",
        [(AliasKind.EMAIL, "alice@example.com")],
    ),
    "github-id-plus-login": (
        "123+alice@users.noreply.github.com",
        [(AliasKind.GITHUB, "alice"), (AliasKind.GITHUB, "123+alice")],
    ),
    "github-login": ("alice@users.noreply.github.com", [(AliasKind.GITHUB, "alice")]),
    "gitlab-id-dash-login": (
        "123-alice@users.noreply.gitlab.com",
        [(AliasKind.GITLAB, "alice"), (AliasKind.GITLAB, "123-alice")],
    ),
    "plain": ("alice@example.com", []),
    "no-at": ("alice", []),
    "only-a-tag": ("+x@example.com", []),
}


@pytest.mark.parametrize(("address", "expected"), DERIVED.values(), ids=DERIVED.keys())
def test_derived_aliases(address: str, expected: list[tuple[AliasKind, str]]) -> None:
    assert [(a.kind, a.value) for a, _ in derived_aliases(address)] == expected


LOOKS_ALIKE = {
    "cyrillic-a": ("alice", "\u0430lice"),
    "capital-i-for-l": ("alice", "aIice"),
    "digit-one-for-l": ("alice", "a1ice"),
    "zero-width-space": ("alice", "al\u200bice"),
    "soft-hyphen": ("alice", "ali\u00adce"),
    "fullwidth": ("alice", "\uff41lice"),
    "math-bold": ("alice", "\U0001d41alice"),
    "rn-for-m": ("amold", "arnold"),
    "greek-omicron": ("bob", "b\u03bfb"),
}


@pytest.mark.parametrize(("real", "fake"), LOOKS_ALIKE.values(), ids=LOOKS_ALIKE.keys())
def test_look_alikes_share_a_skeleton(real: str, fake: str) -> None:
    assert real != fake
    assert skeleton(real) == skeleton(fake)


@pytest.mark.parametrize(
    ("one", "other"), [("alice", "alicia"), ("bob", "rob"), ("alice", "a\u0301lice")]
)
def test_different_names_keep_different_skeletons(one: str, other: str) -> None:
    assert skeleton(one) != skeleton(other)


RESOLVED = {
    "exact": ("alice@example.com", "", ("alice",)),
    "exact-any-case": ("ALICE@EXAMPLE.COM", "", ("alice",)),
    "sub-address": ("alice+wip@example.com", "", ("alice",)),
    "github-noreply": ("123+alice@users.noreply.github.com", "", ("alice",)),
    "gitlab-noreply": ("9-alice@users.noreply.gitlab.com", "", ("alice",)),
    "cyrillic-email": ("\u0430lice@example.com", "", ("alice",)),
    "upper-case-look-alike": ("ALlCE@EXAMPLE.COM", "", ("alice",)),
    "look-alike-login": ("1+al\u0456ce@users.noreply.github.com", "", ("alice",)),
    "look-alike-sub-address": ("\u0430lice+x@example.com", "", ("alice",)),
    "agent-noreply-counts-its-director": (
        "198982749+copilot-bot@users.noreply.github.com",
        "",
        ("copilot", "alice"),
    ),
    "stranger": ("mallory@evil.example", "Mallory", ("email:mallory@evil.example",)),
    "stranger-named-like-alice": (
        "m@evil.example",
        "\u0410lice  Smith",
        ("email:m@evil.example", "alice"),
    ),
    "stranger-named-like-an-id": ("m@evil.example", "B0B", ("email:m@evil.example", "bob")),
    "no-email-named-like-alice": ("", "Alice Smith", ("name:Alice Smith", "alice")),
    "sub-address-of-a-stranger": ("mallory+x@evil.example", "M", ("email:mallory+x@evil.example",)),
}


@pytest.mark.parametrize(("address", "name", "expected"), RESOLVED.values(), ids=RESOLVED.keys())
def test_who_an_identity_is(address: str, name: str, expected: tuple[str, ...]) -> None:
    index = index_of(loads(POLICY))
    assert index.who_by_email(address, name) == expected


def test_unknown_stays_unknown_even_when_a_name_matches() -> None:
    index = index_of(loads(POLICY))
    assert index.principals_of("m@evil.example", "Alice Smith") == ()
    assert index.principals_of("alice+x@example.com", "whoever") == ("alice",)


def test_exact_aliases_win_over_derived_ones() -> None:
    """A sub-address registered to someone else is theirs, not the base address's owner's."""
    text = POLICY.replace(
        "emails: [bob@example.com]", "emails: [bob@example.com, alice+bob@example.com]"
    )
    index = index_of(loads(text))
    assert index.principals_of("alice+bob@example.com", "") == ("bob",)


def test_a_key_is_never_matched_as_a_look_alike() -> None:
    index = index_of(loads(POLICY))
    assert index.principal_id(Alias.key("ssh-ed25519 AAAAnotakey")) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("maybe", "'unknown_authors' must be 'deny' or 'allow', got 'maybe'"),
        ("true", "'unknown_authors' must be 'deny' or 'allow', got True"),
    ],
)
def test_unknown_authors_takes_deny_or_allow(value: str, message: str) -> None:
    text = POLICY + f"branches:\n  main: {{approvers: [bob], unknown_authors: {value}}}\n"
    with pytest.raises(PolicyError) as caught:
        loads(text)
    assert [p.message for p in caught.value.problems] == [message]


def test_signed_commits_is_a_boolean() -> None:
    text = POLICY + "branches:\n  main: {approvers: [bob], signed_commits: yes}\n"
    with pytest.raises(PolicyError) as caught:
        loads(text)
    assert [p.message for p in caught.value.problems] == ["'signed_commits' must be true or false"]
    rule = loads(POLICY + "branches:\n  main: {approvers: [bob], signed_commits: true}\n").refs[0]
    assert rule.signed_commits
    assert not rule.allow_unknown_authors


# Property: however a registered address is disguised, it resolves to its owner. ------------

_DISGUISES = {
    "a": ["\u0430", "\u0251", "\uff41"],  # Cyrillic a, Latin alpha, full-width a
    "e": ["\u0435", "\uff45"],
    "o": ["\u043e", "\u03bf", "0"],
    "p": ["\u0440"],
    "c": ["\u0441"],
    "l": ["I", "1", "\u04cf", "|"],
    "i": ["\u0456"],
    "x": ["\u0445"],
    "A": ["\u0410", "\u0391"],
    "E": ["\u0415"],
    "O": ["\u041e", "0"],
    "P": ["\u0420"],
    "C": ["\u0421"],
    "I": ["l", "1", "\u0406"],
    "X": ["\u0425"],
    "B": ["\u0412"],
}


@st.composite
def _disguised(draw: st.DrawFn) -> tuple[str, str]:
    local = draw(st.text(alphabet="aeopclixbdr", min_size=3, max_size=10))
    shown = local.upper() if draw(st.booleans()) else local  # emails are case-blind
    spelt = []
    for char in shown:
        options = _DISGUISES.get(char, [])
        spelt.append(draw(st.sampled_from([char, *options])))
        if draw(st.integers(0, 9)) == 0:
            spelt.append(draw(st.sampled_from(["\u200b", "\u200d", "\u00ad", "\ufe0f"])))
    tag = draw(st.sampled_from(["", "+wip", "+a.b"]))
    domain = draw(st.sampled_from(["example.com", "EXAMPLE.com", "ex\u0430mple.com"]))
    return local, "".join(spelt) + f"{tag}@{domain}"


@settings(max_examples=300, deadline=None)
@given(_disguised())
def test_a_disguised_address_resolves_to_its_owner(case: tuple[str, str]) -> None:
    local, written = case
    text = (
        f"version: 1\npeople:\n  owner: {{emails: ['{local}@example.com']}}\n"
        "  other: {emails: [zz@example.org]}\n"
        "policy_changes: {approvals: 1, approvers: [other]}\n"
    )
    index = index_of(loads(text))
    assert index.principals_of(written, "") == ("owner",), written


@pytest.mark.parametrize(
    "address",
    [
        "12- @users.noreply.gitlab.com",
        "1+ @users.noreply.github.com",
        " @users.noreply.github.com",
        "@users.noreply.github.com",
        "+@example.com",
        "a@b@users.noreply.github.com",
        "x+ @example.com",
        "@",
        "\u200b@example.com",
    ],
)
def test_odd_addresses_resolve_to_nobody_without_an_error(address: str) -> None:
    """An author email is free text: no spelling may crash resolution (fail small)."""
    index = index_of(loads(POLICY))
    assert index.principals_of(address, "") == ()
    assert index.who_by_email(address, "X")[0].startswith("email:")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.text(max_size=20))
def test_any_identity_text_resolves_without_an_error(email: str, name: str) -> None:
    index = index_of(loads(POLICY))
    email = email.replace("\0", "")
    ids = index.who_by_email(email, name)
    assert ids
    assert all(isinstance(i, str) and i for i in ids)


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_the_ascii_skeleton_is_the_general_one(text: str) -> None:
    """ASCII takes one translation table (issue 13: hundreds of people in a real history)."""
    from twokey.policy._identities import _skeleton  # noqa: PLC0415 - the reference path

    assert skeleton(text) == _skeleton(text)


def test_no_ascii_character_is_ignorable() -> None:
    """What the ASCII fast path of ``skeleton`` relies on."""
    assert all(unicodedata.category(chr(n)) != "Cf" for n in range(128))
    assert unicodedata.normalize("NFD", "".join(map(chr, range(128)))) == "".join(
        map(chr, range(128))
    )
