"""Loading policies: the example loads; every malformed case reports its line and column."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.unit.engine.world import POLICY_YAML, public_key
from twokey.errors import ConfigError
from twokey.model import Alias, AliasKind, PrincipalKind
from twokey.policy import Exclusion, PolicyError, load, load_cached, loads

EXAMPLE = Path(__file__).resolve().parents[3] / "src/twokey/policy/examples/walkthrough.yml"
WEAK_RSA = (
    rsa.generate_private_key(public_exponent=65537, key_size=1024)
    .public_key()
    .public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH)
    .decode()
)
OK_TAIL = "policy_changes: {approvals: 1, approvers: [bob]}\n"
BASE = "version: 1\npeople:\n  alice: {emails: [alice@x.org]}\n  bob: {emails: [bob@x.org]}\n"


def test_example_policy_loads() -> None:
    policy = load(EXAMPLE)
    assert policy.digest.startswith("sha256:")
    assert policy.ref_rule("refs/heads/main") is policy.refs[0]
    assert policy.ref_rule("refs/tags/v1.2") is policy.refs[1]
    assert policy.ref_rule("refs/heads/feature") is None
    assert policy.groups["admins"] == frozenset({"erin", "frank"})
    assert policy.principals["ci"].kind is PrincipalKind.SERVICE
    assert policy.resolve(Alias.email("ALICE@example.com")) == policy.principals["alice"]
    assert policy.resolve(Alias.login(AliasKind.GITHUB, "Bob")) == policy.principals["bob"]
    assert policy.policy_change.exclude == frozenset()


def test_defaults_and_keys() -> None:
    policy = loads(POLICY_YAML, "p.yml")
    main = policy.refs[0]
    assert main.approval.exclude >= {Exclusion.AUTHORS, Exclusion.LAST_PUSHER}
    assert not main.allow_force_push
    assert policy.resolve(Alias.key(public_key("bob", 1) + " comment")) == policy.principals["bob"]
    assert policy.principals["agent"].directed_by == ("bob",)


def test_key_validity_window() -> None:
    text = (
        BASE.replace(
            "bob: {emails: [bob@x.org]}",
            f'bob: {{keys: [{{key: "{public_key("bob")}", valid_before: 2026-06-01T00:00:00Z}}]}}',
        )
        + OK_TAIL
    )
    policy = loads(text)
    validity = policy.key_validity[Alias.key(public_key("bob"))]
    assert validity.valid_at(datetime(2026, 1, 1, tzinfo=UTC))
    assert not validity.valid_at(datetime(2026, 7, 1, tzinfo=UTC))


def test_nested_groups_resolve() -> None:
    text = BASE + "groups:\n  a: [alice]\n  b: [a, bob]\n  c: [b]\n" + OK_TAIL
    assert loads(text).groups["c"] == frozenset({"alice", "bob"})


MALFORMED = {
    "yaml-syntax": ("version: 1\npeople: [\n", 3, 1, "YAML syntax error"),
    "not-a-mapping": ("- 1\n- 2\n", 1, 1, "a policy must be a YAML mapping"),
    "missing-version": ("people: {}\n" + OK_TAIL, 1, 1, "missing 'version'"),
    "bad-version": ("version: 2\n" + OK_TAIL, 1, 10, "unsupported version 2"),
    "unknown-top-key": (
        BASE + "branchez: {}\n" + OK_TAIL,
        5,
        1,
        "unknown key 'branchez' in the policy (hint: did you mean 'branches'?)",
    ),
    "unknown-person-key": (
        "version: 1\npeople:\n  bob: {emial: [b@x.org]}\n" + OK_TAIL,
        3,
        9,
        "unknown key 'emial' in people.bob (hint: did you mean 'emails'?)",
    ),
    "unknown-approver": (
        BASE + "branches:\n  main: {approvers: [mallory]}\n" + OK_TAIL,
        6,
        22,
        "unknown person, service or group 'mallory' in 'approvers'",
    ),
    "alias-claimed-twice": (
        "version: 1\npeople:\n  a: {emails: [x@x.org]}\n"
        "  b: {emails: [X@x.org]}\n" + OK_TAIL.replace("bob", "a"),
        4,
        3,
        "alias email:x@x.org of 'b' is already claimed by 'a'",
    ),
    "threshold-too-large": (
        BASE + "branches:\n  main: {approvals: 3, approvers: [alice, bob]}\n" + OK_TAIL,
        6,
        21,
        "3 approvals required but only 2 eligible approver(s)",
    ),
    "no-approvers": (
        BASE + "branches:\n  main: {approvals: 1}\n" + OK_TAIL,
        6,
        10,
        "1 approval(s) required but no 'approvers'",
    ),
    "negative-count": (
        BASE + "branches:\n  main: {approvals: -1, approvers: [bob]}\n" + OK_TAIL,
        6,
        21,
        "'approvals' must be a whole number >= 0",
    ),
    "bad-ref-glob": (
        BASE + "branches:\n  'ma[in]': {approvers: [bob]}\n" + OK_TAIL,
        6,
        3,
        "bad ref pattern 'ma[in]'",
    ),
    "bad-owner-glob": (
        BASE + "branches:\n  main:\n    approvers: [bob]\n    owners:\n"
        "      'a\\b': {approvers: [alice]}\n" + OK_TAIL,
        9,
        7,
        "bad path pattern",
    ),
    "bad-time-zone": (
        BASE + "services:\n  ci: {}\nenvironments:\n  prod:\n    from: [main]\n"
        "    deployers: [bob]\n    approvers: [alice]\n    builders: [ci]\n"
        "    freeze: ['Fri 16:00 - Mon 08:00 Mars/Olympus']\n" + OK_TAIL,
        13,
        14,
        "unknown time zone 'Mars/Olympus'",
    ),
    "bad-freeze-syntax": (
        BASE + "services:\n  ci: {}\nenvironments:\n  prod:\n    from: [main]\n"
        "    deployers: [bob]\n    approvers: [alice]\n    builders: [ci]\n"
        "    freeze: ['Friday evening']\n" + OK_TAIL,
        13,
        14,
        "bad freeze window 'Friday evening'",
    ),
    "builder-not-service": (
        BASE + "environments:\n  prod:\n    from: [main]\n"
        "    deployers: [bob]\n    approvers: [alice]\n    builders: [bob]\n" + OK_TAIL,
        10,
        16,
        "'builders' may not include people: bob",
    ),
    "service-approver": (
        BASE + "services:\n  ci: {}\nbranches:\n  main: {approvers: [ci]}\n" + OK_TAIL,
        8,
        22,
        "'approvers' may not include services: ci",
    ),
    "group-cycle": (
        BASE + "groups:\n  a: [b]\n  b: [a]\n" + OK_TAIL,
        6,
        3,
        "group cycle: a -> b -> a",
    ),
    "missing-policy-changes": (BASE, 1, 1, "missing 'policy_changes'"),
    "weak-rsa-key": (
        "version: 1\npeople:\n  bob:\n    keys: ['" + WEAK_RSA + "']\n" + OK_TAIL,
        4,
        12,
        "RSA key of 1024 bits is too weak",
    ),
    "not-a-key": (
        "version: 1\npeople:\n  bob:\n    keys: ['ssh-ed25519 bm90LWEta2V5']\n" + OK_TAIL,
        4,
        12,
        "not a valid OpenSSH public key",
    ),
}


@pytest.mark.parametrize(
    ("text", "line", "column", "message"), MALFORMED.values(), ids=MALFORMED.keys()
)
def test_malformed_policy_reports_position(text: str, line: int, column: int, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        loads(text, "p.yml")
    found = [p for p in caught.value.problems if message in str(p)]
    assert found, caught.value.diagnostics()
    assert (found[0].file, found[0].line, found[0].column) == ("p.yml", line, column)


def test_every_problem_is_reported_at_once() -> None:
    text = "version: 1\npeople:\n  bob: {emial: x}\nbranchez: {}\n"
    with pytest.raises(PolicyError) as caught:
        loads(text, "p.yml")
    messages = [p.message for p in caught.value.problems]
    assert len(messages) == 3
    assert "p.yml:3:9: unknown key 'emial'" in caught.value.diagnostics()


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read policy"):
        load(tmp_path / "absent.yml")


def test_load_cached_reloads_after_an_edit(tmp_path: Path) -> None:
    path = tmp_path / "p.yml"
    path.write_text(BASE + OK_TAIL)
    first = load_cached(path)
    assert load_cached(path) is first
    path.write_text(BASE + OK_TAIL.replace("bob", "alice") + "\n")
    assert load_cached(path) is not first
