"""Every malformed policy is refused, each problem at its exact file:line:column with a hint."""

from __future__ import annotations

import pytest

from tests.unit.policy.support import HEAD, TAIL, compressed_ecdsa_key, ssh_public_key
from twokey.errors import ConfigError, ExitCode
from twokey.policy import PolicyError, loads

ENV = (
    "services:\n  ci: {}\nenvironments:\n  prod:\n    from: [main]\n"
    "    deployers: [bob]\n    approvers: [alice]\n    builders: [ci]\n"
)

# id: (policy text, line, column, message fragment, hint fragment)
MALFORMED: dict[str, tuple[str, int, int, str, str]] = {
    "yaml-syntax": ("version: 1\npeople: [\n", 3, 1, "YAML syntax error", ""),
    "yaml-tab": ("version: 1\n\tpeople: {}\n", 2, 1, "YAML syntax error", ""),
    "duplicate-key": (
        HEAD + "  bob: {}\n" + TAIL,
        5,
        3,
        'duplicate key: found duplicate key "bob"',
        "may appear once",
    ),
    "not-a-mapping": ("- 1\n- 2\n", 1, 1, "a policy must be a YAML mapping", "version: 1"),
    "empty-file": ("", 1, 1, "a policy must be a YAML mapping", ""),
    "missing-version": ("people: {}\n" + TAIL, 1, 1, "missing 'version'", "version: 1"),
    "version-2": ("version: 2\n" + TAIL, 1, 10, "unsupported version 2", "version: 1"),
    "version-true": ("version: true\n" + TAIL, 1, 10, "unsupported version True", ""),
    "version-string": ("version: '1'\n" + TAIL, 1, 10, "unsupported version '1'", ""),
    "unknown-top-key": (
        HEAD + "branchez: {}\n" + TAIL,
        5,
        1,
        "unknown key 'branchez' in the policy",
        "did you mean 'branches'?",
    ),
    "unknown-person-key": (
        "version: 1\npeople:\n  bob: {emial: [b@x.org]}\n" + TAIL,
        3,
        9,
        "unknown key 'emial' in people.bob",
        "did you mean 'emails'?",
    ),
    "unknown-ref-key": (
        HEAD + "branches:\n  main:\n    approvers: [bob]\n    aprovals: 1\n" + TAIL,
        8,
        5,
        "unknown key 'aprovals' in branches.refs/heads/main",
        "did you mean 'approvals'?",
    ),
    "unknown-env-key": (
        HEAD + ENV + "    deployer: [bob]\n" + TAIL,
        13,
        5,
        "unknown key 'deployer' in environments.prod",
        "did you mean 'deployers'?",
    ),
    "people-not-mapping": ("version: 1\npeople: [alice]\n" + TAIL, 2, 9, "mapping of ids", ""),
    "bad-person-id": (
        "version: 1\npeople:\n  Alice: {}\n" + TAIL,
        3,
        3,
        "invalid id 'Alice'",
        "lower-case",
    ),
    "person-and-service-same-id": (
        HEAD + "services:\n  bob: {}\n" + TAIL,
        6,
        3,
        "'bob' is defined twice",
        "",
    ),
    "group-named-like-person": (
        HEAD + "groups:\n  alice: [bob]\n" + TAIL,
        6,
        3,
        "group 'alice' has the same name as a person or service",
        "",
    ),
    "bad-email": (
        "version: 1\npeople:\n  bob: {emails: [bob]}\n" + TAIL,
        3,
        17,
        "'bob' is not an email address",
        "",
    ),
    "emails-wrong-type": (
        "version: 1\npeople:\n  bob: {emails: 5}\n" + TAIL,
        3,
        17,
        "'emails' must be a string or a list of strings",
        "",
    ),
    "login-wrong-type": (
        "version: 1\npeople:\n  bob: {github: [bob]}\n" + TAIL,
        3,
        17,
        "'github' must be a login name",
        "",
    ),
    "alias-claimed-twice": (
        "version: 1\npeople:\n  a: {emails: [x@x.org]}\n  b: {emails: [X@x.org]}\n"
        + TAIL.replace("bob", "a"),
        4,
        3,
        "alias email:x@x.org of 'b' is already claimed by 'a'",
        "exactly one",
    ),
    "key-claimed-by-person-and-service": (
        f'version: 1\npeople:\n  bob: {{keys: ["{ssh_public_key(label="k")}"]}}\n'
        f'services:\n  ci: {{keys: ["{ssh_public_key(label="k")}"]}}\n' + TAIL,
        5,
        3,
        "is already claimed by 'bob'",
        "",
    ),
    "keys-not-a-list": (
        "version: 1\npeople:\n  bob: {keys: 5}\n" + TAIL,
        3,
        15,
        "'keys' must be a list of OpenSSH public keys",
        "",
    ),
    "not-a-key": (
        "version: 1\npeople:\n  bob:\n    keys: ['ssh-ed25519 bm90LWEta2V5']\n" + TAIL,
        4,
        12,
        "not a valid OpenSSH public key",
        ".pub line",
    ),
    "key-one-word": (
        "version: 1\npeople:\n  bob:\n    keys: [hello]\n" + TAIL,
        4,
        12,
        "not an OpenSSH public key",
        "",
    ),
    "weak-rsa-key": (
        f"version: 1\npeople:\n  bob:\n    keys: ['{ssh_public_key('rsa', 1024)}']\n" + TAIL,
        4,
        12,
        "RSA key of 1024 bits is too weak (at least 2048)",
        "",
    ),
    "ecdsa-p384-key": (
        f"version: 1\npeople:\n  bob:\n    keys: ['{ssh_public_key('ecdsa', 384)}']\n" + TAIL,
        4,
        12,
        "ECDSA curve secp384r1 is not supported",
        "",
    ),
    "compressed-ecdsa-point": (
        f"version: 1\npeople:\n  bob:\n    keys: ['{compressed_ecdsa_key()}']\n" + TAIL,
        4,
        12,
        "not a valid OpenSSH public key (Need uncompressed point)",
        "",
    ),
    "key-unknown-field": (
        f"version: 1\npeople:\n  bob:\n    keys:\n      - {{key: '{ssh_public_key()}', "
        "revokd: true}\n" + TAIL,
        5,
        len("      - {key: '") + len(ssh_public_key()) + len("', ") + 1,
        "unknown key 'revokd' in a key entry",
        "did you mean 'revoked'?",
    ),
    "key-naive-time": (
        f"version: 1\npeople:\n  bob:\n    keys:\n      - key: '{ssh_public_key()}'\n"
        "        valid_after: 2026-01-01T00:00:00\n" + TAIL,
        6,
        22,
        "'valid_after' must be a timestamp with a time zone",
        "2026-01-01T00:00:00Z",
    ),
    "key-window-reversed": (
        f"version: 1\npeople:\n  bob:\n    keys:\n      - key: '{ssh_public_key()}'\n"
        "        valid_after: 2027-01-01T00:00:00Z\n"
        "        valid_before: 2026-01-01T00:00:00Z\n" + TAIL,
        7,
        23,
        "'valid_before' must be later than 'valid_after'",
        "",
    ),
    "key-revoked-not-bool": (
        f"version: 1\npeople:\n  bob:\n    keys:\n      - key: '{ssh_public_key()}'\n"
        "        revoked: maybe\n" + TAIL,
        6,
        18,
        "'revoked' must be true or false",
        "",
    ),
    "directed-by-unknown": (
        HEAD + "services:\n  agent: {directed_by: [mallory]}\n" + TAIL,
        6,
        25,
        "services.agent.directed_by: 'mallory' is not a person",
        "",
    ),
    "directed-by-service": (
        HEAD + "services:\n  ci: {}\n  agent: {directed_by: [ci]}\n" + TAIL,
        7,
        25,
        "services.agent.directed_by: 'ci' is not a person",
        "",
    ),
    "group-not-a-list": (
        HEAD + "groups:\n  a: alice\n" + TAIL,
        6,
        6,
        "group 'a' must be a list of names",
        "",
    ),
    "group-unknown-member": (
        HEAD + "groups:\n  a: [alice, mallory]\n" + TAIL,
        6,
        14,
        "unknown person, service or group 'mallory'",
        "",
    ),
    "group-cycle": (
        HEAD + "groups:\n  a: [b]\n  b: [a]\n" + TAIL,
        6,
        3,
        "group cycle: a -> b -> a",
        "contain itself",
    ),
    "group-self": (HEAD + "groups:\n  a: [a]\n" + TAIL, 6, 3, "group cycle: a -> a", ""),
    "unknown-approver": (
        HEAD + "branches:\n  main: {approvers: [mallory]}\n" + TAIL,
        6,
        22,
        "unknown person, service or group 'mallory' in 'approvers'",
        "",
    ),
    "service-approver": (
        HEAD + "services:\n  ci: {}\nbranches:\n  main: {approvers: [ci]}\n" + TAIL,
        8,
        22,
        "'approvers' may not include services: ci",
        "invariant 10",
    ),
    "service-in-approver-group": (
        HEAD + "services:\n  ci: {}\ngroups:\n  g: [bob, ci]\n"
        "branches:\n  main: {approvers: [g]}\n" + TAIL,
        10,
        22,
        "'approvers' may not include services: ci",
        "",
    ),
    "threshold-too-large": (
        HEAD + "branches:\n  main: {approvals: 3, approvers: [alice, bob]}\n" + TAIL,
        6,
        21,
        "branches.refs/heads/main: 3 approvals required but only 2 eligible approver(s)",
        "lower the count",
    ),
    "no-approvers": (
        HEAD + "branches:\n  main: {approvals: 1}\n" + TAIL,
        6,
        10,
        "branches.refs/heads/main: 1 approval(s) required but no 'approvers'",
        "name the groups",
    ),
    "empty-approver-list": (
        HEAD + "branches:\n  main: {approvals: 1, approvers: []}\n" + TAIL,
        6,
        35,
        "1 approval(s) required but 'approvers' names no person",
        "",
    ),
    "empty-approver-group": (
        HEAD + "groups:\n  nobody: []\nbranches:\n  main: {approvers: [nobody]}\n" + TAIL,
        8,
        21,
        "1 approval(s) required but 'approvers' names no person",
        "",
    ),
    "negative-count": (
        HEAD + "branches:\n  main: {approvals: -1, approvers: [bob]}\n" + TAIL,
        6,
        21,
        "'approvals' must be a whole number >= 0",
        "got -1",
    ),
    "count-not-int": (
        HEAD + "branches:\n  main: {approvals: two, approvers: [bob]}\n" + TAIL,
        6,
        21,
        "'approvals' must be a whole number >= 0",
        "got 'two'",
    ),
    "count-float": (
        HEAD + "branches:\n  main: {approvals: 1.5, approvers: [bob]}\n" + TAIL,
        6,
        21,
        "'approvals' must be a whole number >= 0",
        "",
    ),
    "ref-without-rules": (
        HEAD + "branches:\n  main:\n" + TAIL,
        6,
        3,
        "branches.refs/heads/main has no rules",
        "approvals: 0",
    ),
    "bad-ref-glob": (
        HEAD + "branches:\n  'ma[in]': {approvers: [bob]}\n" + TAIL,
        6,
        3,
        "bad ref pattern 'ma[in]'",
        "'**' across segments",
    ),
    "ref-pattern-twice": (
        HEAD
        + "branches:\n  main: {approvers: [bob]}\n  refs/heads/main: {approvers: [bob]}\n"
        + TAIL,
        7,
        3,
        "'refs/heads/main' is the same ref pattern as branches.main",
        "merge the two rules",
    ),
    "unknown-exclusion": (
        HEAD + "branches:\n  main: {approvers: [bob], exclude: [authers]}\n" + TAIL,
        6,
        38,
        "unknown exclude value 'authers'",
        "allowed: authors, committers, co-authors, last-pusher",
    ),
    "deploy-exclusion-on-branch": (
        HEAD + "branches:\n  main: {approvers: [bob], exclude: [approvers]}\n" + TAIL,
        6,
        38,
        "unknown exclude value 'approvers'",
        "",
    ),
    "branch-exclusion-on-environment": (
        HEAD + ENV + "    separate: [last-pusher]\n" + TAIL,
        13,
        16,
        "unknown separate value 'last-pusher'",
        "allowed: authors, approvers",
    ),
    "unknown-trust-level": (
        HEAD + "branches:\n  main: {approvers: [bob], accept: [email]}\n" + TAIL,
        6,
        37,
        "unknown accept value 'email'",
        "allowed: signed, forge, trailer",
    ),
    "force-push-not-bool": (
        HEAD + "branches:\n  main: {approvers: [bob], force_push: 'no'}\n" + TAIL,
        6,
        40,
        "'force_push' must be true or false",
        "",
    ),
    "bad-owner-glob": (
        HEAD + "branches:\n  main:\n    approvers: [bob]\n    owners:\n"
        "      'a\\b': {approvers: [alice]}\n" + TAIL,
        9,
        7,
        "bad path pattern 'a\\b'",
        "deploy/**",
    ),
    "owner-rule-not-mapping": (
        HEAD
        + "branches:\n  main:\n    approvers: [bob]\n    owners:\n      'deploy/': carol\n"
        + TAIL,
        9,
        18,
        "branches.refs/heads/main.owners.deploy/ must be {approvals: N, approvers: [...]}",
        "",
    ),
    "checks-without-signers": (
        HEAD + "branches:\n  main:\n    approvers: [bob]\n    checks: {require: [tests]}\n" + TAIL,
        8,
        5,
        "'checks.signers' must name the services that report checks",
        "",
    ),
    "checks-signed-by-person": (
        HEAD + "branches:\n  main:\n    approvers: [bob]\n"
        "    checks: {require: [tests], signers: [alice]}\n" + TAIL,
        8,
        42,
        "'signers' may not include people: alice",
        "",
    ),
    "checks-require-empty": (
        HEAD + "services:\n  ci: {}\nbranches:\n  main:\n    approvers: [bob]\n"
        "    checks: {require: [], signers: [ci]}\n" + TAIL,
        10,
        14,
        "'checks.require' must be a non-empty list of check names",
        "",
    ),
    "env-without-from": (
        HEAD
        + "services:\n  ci: {}\nenvironments:\n  prod:\n    deployers: [bob]\n"
        + "    approvers: [alice]\n    builders: [ci]\n"
        + TAIL,
        8,
        3,
        "environments.prod.from must list the refs deploys may come from",
        "",
    ),
    "env-bad-from-glob": (
        HEAD + ENV.replace("[main]", "[main, 'x[1]']") + TAIL,
        9,
        18,
        "bad ref pattern 'x[1]'",
        "",
    ),
    "env-without-builders": (
        HEAD + ENV.replace("    builders: [ci]\n", "") + TAIL,
        8,
        3,
        "environments.prod.builders must name the trusted build services",
        "",
    ),
    "builder-not-service": (
        HEAD + ENV.replace("builders: [ci]", "builders: [bob]") + TAIL,
        12,
        16,
        "'builders' may not include people: bob",
        "must be services",
    ),
    "env-without-deployers": (
        HEAD + ENV.replace("    deployers: [bob]\n", "") + TAIL,
        8,
        3,
        "environments.prod.deployers must name who may deploy",
        "",
    ),
    "env-unknown-deployer": (
        HEAD + ENV.replace("deployers: [bob]", "deployers: [bob, eve]") + TAIL,
        10,
        22,
        "unknown person, service or group 'eve' in 'deployers'",
        "",
    ),
    "break-glass-service": (
        HEAD + ENV + "    break_glass: [ci]\n" + TAIL,
        13,
        19,
        "'break_glass' may not include services: ci",
        "",
    ),
    "bad-time-zone": (
        HEAD + ENV + "    freeze: ['Fri 16:00 - Mon 08:00 Mars/Olympus']\n" + TAIL,
        13,
        14,
        "unknown time zone 'Mars/Olympus'",
        "IANA",
    ),
    "bad-freeze-syntax": (
        HEAD + ENV + "    freeze: ['Friday evening']\n" + TAIL,
        13,
        14,
        "bad freeze window 'Friday evening'",
        "Ddd HH:MM - Ddd HH:MM Zone",
    ),
    "bad-freeze-day": (
        HEAD + ENV + "    freeze: ['Fry 16:00 - Mon 08:00 UTC']\n" + TAIL,
        13,
        14,
        "bad day in freeze window",
        "",
    ),
    "bad-freeze-time": (
        HEAD + ENV + "    freeze: ['Fri 24:00 - Mon 08:00 UTC']\n" + TAIL,
        13,
        14,
        "bad time in freeze window",
        "",
    ),
    "empty-freeze-window": (
        HEAD + ENV + "    freeze: ['Mon 08:00 - Mon 08:00 UTC']\n" + TAIL,
        13,
        14,
        "empty freeze window",
        "",
    ),
    "freeze-not-a-list": (
        HEAD + ENV + "    freeze: {fri: mon}\n" + TAIL,
        13,
        13,
        "'freeze' must be a list of windows",
        "",
    ),
    "missing-policy-changes": (HEAD, 1, 1, "missing 'policy_changes'", "invariant 7"),
    "policy-changes-zero": (
        HEAD + "policy_changes: {approvals: 0, approvers: [bob]}\n",
        5,
        29,
        "policy_changes needs at least 1 approval",
        "invariant 7",
    ),
    "policy-changes-not-mapping": (
        HEAD + "policy_changes: 2\n",
        5,
        17,
        "'policy_changes' must be a mapping",
        "",
    ),
    "break-glass-reviewers-empty": (
        HEAD + TAIL + "break_glass_reviewers: []\n",
        6,
        24,
        "break_glass_reviewers names nobody: no break-glass could ever be reviewed",
        "leave the key out: anyone else may review",
    ),
    "break-glass-reviewers-unknown": (
        HEAD + TAIL + "break_glass_reviewers: [zed]\n",
        6,
        25,
        "unknown person, service or group 'zed' in 'break_glass_reviewers'",
        "",
    ),
    "break-glass-reviewers-service": (
        HEAD + "services:\n  ci: {}\n" + TAIL + "break_glass_reviewers: [ci]\n",
        8,
        25,
        "'break_glass_reviewers' may not include services: ci",
        "",
    ),
    "policy-changes-too-many": (
        HEAD + "policy_changes: {approvals: 3, approvers: [alice, bob]}\n",
        5,
        29,
        "policy_changes: 3 approvals required but only 2 eligible approver(s): alice, bob",
        "",
    ),
}


@pytest.mark.parametrize(
    ("text", "line", "column", "message", "hint"), MALFORMED.values(), ids=MALFORMED.keys()
)
def test_malformed_policy_is_refused_at_its_position(
    text: str, line: int, column: int, message: str, hint: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        loads(text, "p.yml")
    found = [p for p in caught.value.problems if message in p.message]
    assert found, caught.value.diagnostics()
    problem = found[0]
    assert (problem.file, problem.line, problem.column) == ("p.yml", line, column), str(problem)
    assert hint in problem.hint
    assert str(problem).startswith(f"p.yml:{line}:{problem.column}: {problem.message}")


def test_policy_error_is_a_config_error_with_exit_code_2() -> None:
    with pytest.raises(PolicyError) as caught:
        loads("version: 2\n", "p.yml")
    assert isinstance(caught.value, ConfigError)
    assert caught.value.exit_code is ExitCode.USAGE
    assert str(caught.value).splitlines()[0] == "invalid policy: 2 problems"


def test_every_problem_is_reported_at_once_in_file_order() -> None:
    text = "version: 1\npeople:\n  bob: {emial: x}\nbranchez: {}\ngroups:\n  g: [mallory]\n"
    with pytest.raises(PolicyError) as caught:
        loads(text, "p.yml")
    assert [str(p) for p in caught.value.problems] == [
        "p.yml:1:1: missing 'policy_changes' (k-of-n admins for policy changes) "
        "(hint: add e.g. 'policy_changes: {approvals: 2, approvers: [admins]}' (invariant 7))",
        "p.yml:3:9: unknown key 'emial' in people.bob (hint: did you mean 'emails'?)",
        "p.yml:4:1: unknown key 'branchez' in the policy (hint: did you mean 'branches'?)",
        "p.yml:6:7: unknown person, service or group 'mallory'",
    ]
    assert caught.value.diagnostics().count("\n  p.yml:") == 4


def test_problem_to_dict() -> None:
    with pytest.raises(PolicyError) as caught:
        loads("version: 2\n" + TAIL, "p.yml")
    assert caught.value.problems[0].to_dict() == {
        "file": "p.yml",
        "line": 1,
        "column": 10,
        "message": "unsupported version 2",
        "hint": "this twokey reads 'version: 1'",
    }


def test_oversized_policy_is_refused() -> None:
    with pytest.raises(PolicyError, match="the limit is"):
        loads(b"#" * (4 * 1024 * 1024 + 1))


def test_invalid_utf8_is_refused() -> None:
    with pytest.raises(PolicyError, match="YAML"):
        loads(b"version: 1\nname: \xff\xfe\n")
