"""The loader refuses what cannot be meant (issue 15, items 11 and 13; ADR 0012)."""

from __future__ import annotations

import base64
import time

import pytest

from tests.unit.policy.support import HEAD, TAIL, ssh_public_key
from twokey.model import Alias
from twokey.policy import PolicyError, loads


def _problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        loads(text)
    return [p.message for p in caught.value.problems]


def _keyed(window: str) -> str:
    key = ssh_public_key("ed25519", label="window")
    return (
        "version: 1\npeople:\n  alice:\n    keys:\n"
        f"      - {{key: '{key}', {window}}}\n  bob: {{emails: [bob@x.org]}}\n" + TAIL
    )


WINDOWS = {
    "space-and-utc-word": "valid_before: '2025-06-01 00:00:00 UTC'",
    "typo": "valid_before: '2025-13-01T00:00:00Z'",
    "empty-string": "valid_before: ''",
    "null": "valid_after: null",
    "no-zone": "valid_after: '2025-06-01T00:00:00'",
    "date-only": "valid_before: 2025-06-01",
    "a-number": "valid_before: 20250601",
}


@pytest.mark.parametrize("window", WINDOWS.values(), ids=WINDOWS.keys())
def test_a_key_window_that_does_not_parse_is_an_error(window: str) -> None:
    field = window.split(":", maxsplit=1)[0]
    (message,) = _problems(_keyed(window))
    assert message.startswith(f"'{field}' must be a timestamp with a time zone, got ")


def test_a_zoned_window_loads() -> None:
    policy = loads(_keyed("valid_before: '2027-01-01T00:00:00+02:00'"))
    (validity,) = policy.key_validity.values()
    assert validity.valid_before is not None
    assert validity.valid_before.utcoffset() is not None


DIRECTORS = {
    "scalar": ("directed_by: alice", "services.agent.directed_by must be a list of people"),
    "unknown": ("directed_by: [alcie]", "services.agent.directed_by: 'alcie' is not a person"),
    "service": ("directed_by: [ci]", "services.agent.directed_by: 'ci' is not a person"),
    "group": ("directed_by: [devs]", "services.agent.directed_by: 'devs' is not a person"),
    "mapping": ("directed_by: {alice: 1}", "services.agent.directed_by must be a list of people"),
}


@pytest.mark.parametrize(("field", "message"), DIRECTORS.values(), ids=DIRECTORS.keys())
def test_directed_by_must_be_a_list_of_people(field: str, message: str) -> None:
    text = HEAD + f"services:\n  ci: {{}}\n  agent: {{{field}}}\ngroups:\n  devs: [alice]\n" + TAIL
    problems = _problems(text)
    assert any(p.startswith(message) for p in problems), problems


def _padded_rsa(line: str) -> str:
    """The same RSA key with its modulus written with three extra leading zero bytes."""
    blob = base64.b64decode(line.split()[1])
    parts, i = [], 0
    while i < len(blob):
        size = int.from_bytes(blob[i : i + 4], "big")
        parts.append(blob[i + 4 : i + 4 + size])
        i += 4 + size
    kind, exponent, modulus = parts
    padded = b"".join(len(p).to_bytes(4, "big") + p for p in (kind, exponent, b"\0\0\0" + modulus))
    return "ssh-rsa " + base64.b64encode(padded).decode()


def test_one_rsa_key_spelt_two_ways_is_one_alias() -> None:
    """Never two approvers from one key: the padded modulus is the same key."""
    key = ssh_public_key("rsa", 2048, label="padded")
    padded = _padded_rsa(key)
    assert padded.split()[1] != key.split()[1]
    assert Alias.key(padded) == Alias.key(key)
    text = (
        f"version: 1\npeople:\n  alice: {{keys: ['{key}']}}\n  bob: {{keys: ['{padded}']}}\n" + TAIL
    )
    (message,) = _problems(text)
    assert message == f"alias {Alias.key(key)} of 'bob' is already claimed by 'alice'"


NESTED = {
    "flow-lists": "version: 1\nx: " + "[" * 50_000 + "]" * 50_000 + "\n",
    "flow-maps": "version: 1\nx: " + "{a: " * 50_000 + "}" * 50_000 + "\n",
    "block-maps": "version: 1\n" + "".join(" " * i + "a:\n" for i in range(1_500)),
    "just-too-deep": "version: 1\nx: " + "[" * 40 + "]" * 40 + "\n",
}


@pytest.mark.parametrize("text", NESTED.values(), ids=NESTED.keys())
def test_a_deeply_nested_policy_is_a_policy_error(text: str) -> None:
    started = time.perf_counter()
    assert _problems(text) == ["the policy is nested more than 32 levels deep"]
    assert time.perf_counter() - started < 5  # generous: the point is no RecursionError


def test_a_self_referencing_alias_is_walked_once() -> None:
    problems = _problems(HEAD + "x: &a [1, *a]\n" + TAIL)
    assert problems == ["unknown key 'x' in the policy"]


def test_more_than_500_ref_rules_is_an_error() -> None:
    """A pushed policy is loaded by the hook: its size may not buy unbounded overlap checks."""
    rules = "".join(f"  'r{i}': {{approvers: [bob]}}\n" for i in range(501))
    assert _problems(HEAD + "branches:\n" + rules + TAIL) == ["more than 500 ref rules"]
    assert len(loads(HEAD + "branches:\n" + rules.rsplit("  'r500'", 1)[0] + TAIL).refs) == 500


def test_intricate_patterns_exhaust_the_overlap_budget_and_fail_closed() -> None:
    rules = "".join(f"  '*{i}*/*a*b*c*d*e*f*g*h*': {{approvers: [bob]}}\n" for i in range(400))
    problems = _problems(HEAD + "branches:\n" + rules + TAIL)
    assert (
        "the ref patterns are too many or too intricate to check that no two rules match one ref"
        in problems
    )


def test_a_pattern_longer_than_1024_characters_is_an_error() -> None:
    # An explicit key ("? "): YAML limits implicit keys to 1024 characters itself.
    text = HEAD + f"branches:\n  ? '{'a' * 1025}'\n  : {{approvers: [bob]}}\n" + TAIL
    (message,) = _problems(text)
    assert message.endswith("pattern longer than 1024 characters")
