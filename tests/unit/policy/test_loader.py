"""Loading valid policies: the example, aliases, groups, rule positions, digests, caching."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.unit.policy.support import EXAMPLE, HEAD, TAIL, ssh_public_key
from twokey.errors import ConfigError
from twokey.model import Alias, AliasKind, PrincipalKind, RuleRef, TrustLevel
from twokey.policy import (
    DEFAULT_POLICY_PATH,
    Exclusion,
    PolicyError,
    load,
    load_cached,
    loads,
)


def test_example_policy_loads() -> None:
    policy = load(EXAMPLE)
    assert policy.version == 1
    assert policy.source == str(EXAMPLE)
    assert policy.policy_path == DEFAULT_POLICY_PATH
    assert sorted(policy.principals) == ["alice", "bob", "carol", "ci", "dave", "erin", "frank"]
    assert policy.principals["ci"].kind is PrincipalKind.SERVICE
    assert policy.groups == {
        "developers": frozenset({"alice", "bob"}),
        "reviewers": frozenset({"bob", "carol"}),
        "operators": frozenset({"dave"}),
        "admins": frozenset({"erin", "frank"}),
    }
    main, tags = policy.refs
    assert policy.ref_rule("refs/heads/main") is main
    assert policy.ref_rule("refs/tags/v1.2") is tags
    assert policy.ref_rule("refs/heads/feature") is None
    assert main.owners[0].matches("deploy/prod.yml")
    assert main.checks is not None
    assert main.checks.signers == frozenset({"ci"})
    production = policy.environments["production"]
    assert production.deployers == frozenset({"dave", "ci"})
    assert production.builders == frozenset({"ci"})
    assert production.break_glass == frozenset({"dave"})
    assert production.approval.exclude == {Exclusion.AUTHORS, Exclusion.APPROVERS}
    assert [w.text for w in production.freeze] == ["Fri 16:00 - Mon 08:00 Europe/Berlin"]
    assert policy.policy_change.count == 2
    assert policy.policy_change.approvers == frozenset({"erin", "frank"})
    assert policy.policy_change.exclude == frozenset()


def test_aliases_are_normalised_and_indexed() -> None:
    key = ssh_public_key(label="bob")
    text = (
        "version: 1\npeople:\n"
        f"  bob: {{name: Bob, emails: [Bob@X.org], github: BobGH, gitlab: bob-gl, gerrit: Bob,"
        f' keys: ["{key}"]}}\n'
        "services:\n  ci: {emails: [CI@x.org], github: ci-bot}\n" + TAIL
    )
    policy = loads(text)
    bob = policy.principals["bob"]
    assert policy.resolve(Alias.email("bob@x.org")) is bob
    assert policy.resolve(Alias.login(AliasKind.GITHUB, "bobgh")) is bob
    assert policy.resolve(Alias.login(AliasKind.GITLAB, "BOB-GL")) is bob
    assert policy.resolve(Alias.login(AliasKind.GERRIT, "bob")) is bob
    assert policy.resolve(Alias.key(key.rsplit(" ", 1)[0] + " another-comment")) is bob
    assert policy.resolve(Alias.email("ci@x.org")) is policy.principals["ci"]
    assert policy.resolve(Alias.email("mallory@x.org")) is None
    assert policy.resolve(None) is None
    assert bob.name == "Bob"
    assert len(bob.aliases) == 5
    assert policy.key_validity == {}


def test_an_sso_identity_is_an_alias_of_one_principal() -> None:
    text = (
        "version: 1\npeople:\n  bob: {sso: Bob@Corp.example}\n"
        "services:\n  ci: {sso: ci-bot@corp.example}\n" + TAIL
    )
    policy = loads(text)
    assert policy.resolve(Alias.sso("bob@corp.example")) is policy.principals["bob"]
    assert policy.resolve(Alias.sso("ci-bot@corp.example")) is policy.principals["ci"]
    assert policy.resolve(Alias.email("bob@corp.example")) is None  # not an email alias
    assert str(Alias.sso(" BOB@corp.example ")) == "sso:bob@corp.example"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{sso: 5}", "'sso' must be the identity"),
        ("{sso: ''}", "'sso' must be the identity"),
        ("{sso: [a, b]}", "'sso' must be the identity"),
    ],
    ids=["number", "empty", "list"],
)
def test_a_bad_sso_identity_is_an_error(body: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        loads(f"version: 1\npeople:\n  bob: {body}\n" + TAIL)


def test_one_sso_identity_for_two_people_is_an_error() -> None:
    text = "version: 1\npeople:\n  alice: {sso: x@corp}\n  bob: {sso: X@corp}\n" + TAIL
    with pytest.raises(PolicyError, match="already claimed by 'alice'"):
        loads(text)


def test_keys_may_be_omitted_and_a_person_may_be_an_id_only() -> None:
    policy = loads("version: 1\npeople:\n  bob:\n" + TAIL)
    assert policy.principals["bob"].aliases == ()
    assert policy.principals["bob"].name == "bob"


@pytest.mark.parametrize(
    ("kind", "bits"),
    [("ed25519", 0), ("ecdsa", 256), ("rsa", 2048)],
    ids=["ed25519", "ecdsa-nistp256", "rsa-2048"],
)
def test_accepted_key_types(kind: str, bits: int) -> None:
    key = ssh_public_key(kind, bits)
    policy = loads(f'version: 1\npeople:\n  bob: {{keys: ["{key}"]}}\n' + TAIL)
    assert policy.resolve(Alias.key(key)) is policy.principals["bob"]


def test_key_validity_window() -> None:
    key = ssh_public_key(label="window")
    text = (
        "version: 1\npeople:\n  bob:\n    keys:\n"
        f"      - {{key: '{key}', valid_after: 2026-01-01T00:00:00Z,"
        " valid_before: '2026-06-01T00:00:00+02:00'}\n"
        f"      - {{key: '{ssh_public_key(label='old')}', revoked: true}}\n" + TAIL
    )
    policy = loads(text)
    validity = policy.key_validity[Alias.key(key)]
    assert not validity.valid_at(datetime(2025, 12, 31, 23, 59, tzinfo=UTC))
    assert validity.valid_at(datetime(2026, 3, 1, tzinfo=UTC))
    assert not validity.valid_at(datetime(2026, 5, 31, 22, 0, tzinfo=UTC))
    assert not policy.key_validity[Alias.key(ssh_public_key(label="old"))].valid_at(
        datetime(2026, 3, 1, tzinfo=UTC)
    )


def test_agent_service_names_its_directors() -> None:
    text = HEAD + "services:\n  copilot: {github: copilot-bot, directed_by: [alice]}\n" + TAIL
    agent = loads(text).principals["copilot"]
    assert agent.directed_by == ("alice",)
    assert not agent.is_person


def test_nested_groups_resolve_to_people() -> None:
    text = HEAD + "services:\n  ci: {}\ngroups:\n  a: [alice]\n  b: [a, bob]\n  c: [b, ci]\n"
    policy = loads(text + TAIL)
    assert policy.groups["c"] == frozenset({"alice", "bob", "ci"})
    assert policy.groups["a"] == frozenset({"alice"})


def test_defaults() -> None:
    text = HEAD + "services:\n  ci: {}\nbranches:\n  main: {approvers: [bob]}\n"
    text += (
        "environments:\n  prod: {from: main, deployers: [ci], approvers: [bob], builders: [ci]}\n"
    )
    policy = loads(text + TAIL)
    main = policy.refs[0]
    assert main.approval.count == 1
    assert main.approval.exclude == {Exclusion.AUTHORS, Exclusion.COMMITTERS, Exclusion.CO_AUTHORS}
    assert main.approval.accept == {TrustLevel.SIGNED, TrustLevel.FORGE}
    assert (main.allow_force_push, main.allow_deletion, main.checks, main.owners) == (
        False,
        False,
        None,
        (),
    )
    prod = policy.environments["prod"]
    assert prod.from_refs == ("refs/heads/main",)
    assert prod.approval.exclude == {Exclusion.AUTHORS, Exclusion.APPROVERS}
    assert prod.freeze == ()
    assert prod.break_glass == frozenset()


def test_zero_approvals_leaves_a_ref_open_but_guarded() -> None:
    policy = loads(HEAD + "branches:\n  'sandbox/**': {approvals: 0, force_push: true}\n" + TAIL)
    rule = policy.ref_rule("refs/heads/sandbox/alice/x")
    assert rule is not None
    assert rule.approval.count == 0
    assert rule.allow_force_push
    assert not rule.allow_deletion


def test_rules_that_can_match_one_ref_are_an_error() -> None:
    """ADR 0012: one ref, one rule; an overlap names a ref both patterns match."""
    text = HEAD + (
        "branches:\n  'release/**': {approvals: 2, approvers: [alice, bob]}\n"
        "  'release/1.x': {approvers: [bob]}\ntags:\n  '**': {approvers: [alice]}\n"
    )
    with pytest.raises(PolicyError) as caught:
        loads(text + TAIL)
    (problem,) = caught.value.problems
    assert problem.message == (
        "'refs/heads/release/1.x' and 'refs/heads/release/**' (branches.refs/heads/release/**) "
        "both match refs/heads/release/1.x: a ref is governed by exactly one rule"
    )
    assert (problem.line, problem.column) == (HEAD.count("\n") + 3, 3)


def test_disjoint_rules_each_govern_their_refs() -> None:
    text = HEAD + (
        "branches:\n  'release/*': {approvals: 2, approvers: [alice, bob]}\n"
        "  'team/**': {approvers: [bob]}\ntags:\n  '**': {approvers: [alice]}\n"
    )
    policy = loads(text + TAIL)
    release = policy.ref_rule("refs/heads/release/1.0")
    team = policy.ref_rule("refs/heads/team/a/b")
    tag = policy.ref_rule("refs/tags/v1")
    assert release is not None
    assert release.approval.count == 2
    assert policy.ref_rule("refs/heads/release/1.0/hotfix") is None
    assert team is not None
    assert team.pattern == "refs/heads/team/**"
    assert tag is not None
    assert tag.pattern == "refs/tags/**"
    assert policy.ref_rule("refs/notes/x") is None


def test_rules_point_at_the_keys_that_define_them() -> None:
    text = HEAD + (
        "services:\n  ci: {}\n"  # lines 5-6
        "branches:\n"  # 7
        "  main:\n"  # 8
        "    approvals: 1\n"  # 9
        "    approvers: [bob]\n"  # 10
        "    checks: {require: [tests], signers: [ci]}\n"  # 11
        "    owners:\n"  # 12
        "      'deploy/**': {approvers: [alice]}\n"  # 13
        "environments:\n"  # 14
        "  prod:\n"  # 15
        "    from: [main]\n"  # 16
        "    deployers: [ci]\n"  # 17
        "    approvers: [bob]\n"  # 18
        "    builders: [ci]\n"  # 19
        "    freeze: ['Sat 00:00 - Mon 00:00 UTC']\n"  # 20
        "policy_changes:\n"  # 21
        "  approvals: 1\n"  # 22
        "  approvers: [bob]\n"
    )
    policy = loads(text, "p.yml")
    main = policy.refs[0]
    prod = policy.environments["prod"]
    assert main.rule == RuleRef("p.yml", 8, 3, "branches.refs/heads/main")
    assert main.approval.rule == RuleRef("p.yml", 9, 5, "branches.refs/heads/main.approvals")
    assert main.checks is not None
    assert main.checks.rule == RuleRef("p.yml", 11, 5, "branches.refs/heads/main.checks")
    assert main.owners[0].rule == RuleRef(
        "p.yml", 13, 7, "branches.refs/heads/main.owners.deploy/**"
    )
    assert main.owners[0].approval.rule == RuleRef(
        "p.yml", 13, 21, "branches.refs/heads/main.owners.deploy/**.approvals"
    )
    assert prod.rule == RuleRef("p.yml", 15, 3, "environments.prod")
    assert prod.approval.rule == RuleRef("p.yml", 18, 5, "environments.prod.approvals")
    assert prod.freeze[0].rule == RuleRef("p.yml", 20, 14, "environments.prod.freeze[0]")
    assert policy.policy_change.rule == RuleRef("p.yml", 22, 3, "policy_changes.approvals")
    assert policy.principals["ci"].rule == RuleRef("p.yml", 6, 3, "services.ci")


def test_digest_is_over_the_exact_bytes_and_text_and_bytes_agree() -> None:
    data = (HEAD + TAIL).encode()
    from_bytes = loads(data)
    from_text = loads(data.decode())
    assert from_bytes.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert from_text.digest == from_bytes.digest
    assert from_text.principals == from_bytes.principals
    assert from_text.policy_change == from_bytes.policy_change


def test_round_trip_through_a_file_and_through_crlf(tmp_path: Path) -> None:
    data = EXAMPLE.read_bytes()
    path = tmp_path / "policy.yml"
    path.write_bytes(data)
    from_file = load(path)
    from_blob = loads(data, str(path))
    assert from_file.digest == from_blob.digest
    assert from_file.refs == from_blob.refs
    assert from_file.environments == from_blob.environments
    crlf = loads(data.replace(b"\n", b"\r\n"), str(path))
    assert crlf.digest != from_file.digest  # the digest names the exact bytes
    assert crlf.refs == from_file.refs  # same rules, same positions


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read policy") as caught:
        load(tmp_path / "absent.yml")
    assert not isinstance(caught.value, PolicyError)
    assert "--policy" in caught.value.hint


def test_load_cached_reloads_after_an_edit(tmp_path: Path) -> None:
    path = tmp_path / "p.yml"
    path.write_text(HEAD + TAIL)
    first = load_cached(path)
    assert load_cached(path) is first
    assert load_cached(str(path)) is first
    path.write_text(HEAD + TAIL.replace("bob", "alice") + "\n")
    second = load_cached(path)
    assert second is not first
    assert second.policy_change.approvers == frozenset({"alice"})
    with pytest.raises(ConfigError, match="cannot read policy"):
        load_cached(tmp_path / "absent.yml")


def test_load_cached_sees_a_same_size_edit_with_the_same_mtime(tmp_path: Path) -> None:
    path = tmp_path / "p.yml"
    before = HEAD + "policy_changes: {approvals: 1, approvers: [bob]}  \n"
    after = HEAD + "policy_changes: {approvals: 1, approvers: [alice]}\n"
    assert len(before) == len(after)
    path.write_text(before)
    stat = path.stat()
    first = load_cached(path)
    path.write_text(after)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_mtime_ns == stat.st_mtime_ns
    second = load_cached(path)
    assert first.policy_change.approvers == frozenset({"bob"})
    assert second.policy_change.approvers == frozenset({"alice"})


def test_a_loaded_policy_is_read_only() -> None:
    policy = load(EXAMPLE)
    with pytest.raises(TypeError):
        policy.groups["admins"] = frozenset({"mallory"})  # type: ignore[index]
    with pytest.raises(TypeError):
        policy.aliases[Alias.email("mallory@x.org")] = "erin"  # type: ignore[index]


def test_an_oversized_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "huge.yml"
    path.write_bytes(b"#" * (5 * 1024 * 1024))
    with pytest.raises(PolicyError, match="the limit is 4194304"):
        load(path)


def big_policy(people: int = 200, groups: int = 40, rules: int = 30) -> str:
    """A realistic large policy: every person with two emails, a login and an SSH key."""
    lines = ["version: 1", "people:"]
    for i in range(people):
        key = (
            ed25519.Ed25519PrivateKey.generate()
            .public_key()
            .public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH)
            .decode()
        )
        lines.append(
            f"  p{i}: {{name: Person {i}, emails: [p{i}@x.org, p{i}@users.example],"
            f' github: p{i}, keys: ["{key}"]}}'
        )
    lines += ["services:", "  ci: {}", "groups:"]
    lines += [
        f"  g{g}: [{', '.join(f'p{i}' for i in range(g * 5, g * 5 + 5))}]" for g in range(groups)
    ]
    lines.append("branches:")
    for r in range(rules):
        lines += [
            f"  'team{r}/**':",
            "    approvals: 2",
            f"    approvers: [g{r % groups}, g{(r + 1) % groups}]",
            "    checks: {require: [tests], signers: [ci]}",
            "    owners:",
            f"      'deploy/{r}/**': {{approvals: 1, approvers: [g{(r + 2) % groups}]}}",
        ]
    lines.append("policy_changes: {approvals: 2, approvers: [g0]}")
    return "\n".join(lines) + "\n"


def test_a_large_policy_loads_quickly() -> None:
    text = big_policy()
    started = time.perf_counter()
    policy = loads(text)
    elapsed = time.perf_counter() - started
    assert len(policy.principals) == 201
    assert len(policy.groups) == 40
    assert len(policy.refs) == 30
    assert policy.ref_rule("refs/heads/team7/x/y") is policy.refs[7]
    # Measured about 0.4 s on the shared 2-core machine; the bound leaves room for load.
    assert elapsed < 5, elapsed


def test_break_glass_reviewers_are_people_resolved_through_groups() -> None:
    text = HEAD + "groups:\n  admins: [alice]\n" + TAIL
    assert loads(text).break_glass_reviewers is None  # absent: anyone but the actor
    with_key = loads(text + "break_glass_reviewers: [admins, bob]\n")
    assert with_key.break_glass_reviewers == frozenset({"alice", "bob"})
