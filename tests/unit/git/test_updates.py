"""Pre-receive input, push options and pusher identity: parsed strictly, never guessed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from twokey.doors import key_fingerprint, push_options, pusher_from_env
from twokey.doors._pusher import identify_pusher
from twokey.errors import UsageError
from twokey.git import parse_updates
from twokey.model import ZERO_SHA, Alias, AliasKind
from twokey.policy import loads

A = "a" * 40
B = "b" * 40


def test_parse_updates_reads_each_line() -> None:
    updates = parse_updates(f"{A} {B} refs/heads/main\n\n{ZERO_SHA} {B} refs/twokey/evidence/x/y\n")
    assert [(u.ref, u.old, u.new) for u in updates] == [
        ("refs/heads/main", A, B),
        ("refs/twokey/evidence/x/y", ZERO_SHA, B),
    ]
    assert updates[1].is_evidence
    assert updates[1].is_creation
    assert not updates[0].is_evidence


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (f"{A} refs/heads/main", "expected '<old> <new> <ref>'"),
        (f"{A} xyz refs/heads/main", "not an object id: 'xyz'"),
        (f"{A} {B} main", "not a full ref name: 'main'"),
        (f"{ZERO_SHA} {ZERO_SHA} refs/heads/x", "both old and new are the null id"),
    ],
    ids=["two-fields", "bad-sha", "short-ref", "null-null"],
)
def test_parse_updates_rejects_bad_lines(line: str, message: str) -> None:
    with pytest.raises(UsageError, match="bad ref update on line 1") as info:
        parse_updates(line)
    assert message in info.value.message


def test_push_options() -> None:
    env = {
        "GIT_PUSH_OPTION_COUNT": "2",
        "GIT_PUSH_OPTION_0": "twokey.break-glass=prod is down",
        "GIT_PUSH_OPTION_1": "ci.skip",
    }
    assert push_options(env) == {"twokey.break-glass": "prod is down", "ci.skip": ""}
    assert push_options({"GIT_PUSH_OPTION_COUNT": "x"}) == {}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"TWOKEY_PUSHER": "email:Alice@Example.com"}, Alias.email("alice@example.com")),
        ({"TWOKEY_PUSHER": "bob@example.com"}, Alias.email("bob@example.com")),
        ({"TWOKEY_PUSHER": "github:Carol"}, Alias.login(AliasKind.GITHUB, "carol")),
        ({"REMOTE_USER": "dave@example.com"}, Alias.email("dave@example.com")),
        ({"REMOTE_USER": "dave"}, None),
        (
            {"TWOKEY_PUSHER": "email:erin@example.com", "REMOTE_USER": "x@example.com"},
            Alias.email("erin@example.com"),
        ),
        ({"TWOKEY_PUSHER": "nonsense:x"}, None),
    ],
    ids=[
        "none",
        "alias",
        "bare-email",
        "login",
        "remote-user",
        "remote-user-no-email",
        "order",
        "unknown-kind",
    ],
)
def test_pusher_from_env(env: dict[str, str], expected: Alias | None) -> None:
    assert pusher_from_env(env) == expected


def test_key_fingerprint_matches_ssh_keygen(tmp_path: Path) -> None:
    key = tmp_path / "id"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    public = Alias.key((tmp_path / "id.pub").read_text())
    listed = subprocess.run(
        ["ssh-keygen", "-lf", str(key) + ".pub"], check=True, capture_output=True, text=True
    ).stdout.split()[1]
    assert key_fingerprint(public) == listed


POLICY = loads(
    """\
version: 1
people:
  alice: {name: Alice, emails: [alice@example.com], github: al1ce}
  bob: {name: Bob, emails: [bob@example.com], github: bobby, gitlab: carol}
  carol: {name: Carol, emails: [carol@example.com], github: carol}
services:
  ci: {name: CI, emails: [ci@example.com]}
groups:
  reviewers: [bob, carol]
branches:
  main: {approvals: 1, approvers: [reviewers]}
policy_changes: {approvals: 1, approvers: [reviewers]}
""",
    "policy.yml",
)


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("alice", "alice"),
        ("al1ce", "alice"),
        ("bobby", "bob"),
        ("ci", "ci"),
        ("carol", "carol"),  # a person id wins over bob's gitlab login "carol"
        ("mallory", None),
        ("", None),
    ],
    ids=["person-id", "github-login", "login", "service-id", "id-before-login", "unknown", "empty"],
)
def test_a_bare_remote_user_maps_through_the_policy(user: str, expected: str | None) -> None:
    alias = pusher_from_env({"REMOTE_USER": user}, POLICY)
    found = POLICY.resolve(alias)
    assert (found.id if found is not None else None) == expected


def test_an_ambiguous_login_names_nobody() -> None:
    # A login two principals share maps to nobody (fail closed), never to the first one.
    shared = loads(
        """\
version: 1
people:
  alice: {name: Alice, emails: [alice@example.com], github: dev}
  bob: {name: Bob, emails: [bob@example.com], gitlab: dev}
groups:
  reviewers: [alice, bob]
branches:
  main: {approvals: 1, approvers: [reviewers]}
policy_changes: {approvals: 1, approvers: [reviewers]}
""",
        "policy.yml",
    )
    assert pusher_from_env({"REMOTE_USER": "dev"}, shared) is None


def test_the_environment_alone_never_makes_a_certificate() -> None:
    """git's verdict variables without a certificate blob name nobody (ADR 0013)."""
    env = {"GIT_PUSH_CERT_STATUS": "G", "GIT_PUSH_CERT_KEY": "SHA256:x"}
    assert identify_pusher(env, POLICY).pusher is None
