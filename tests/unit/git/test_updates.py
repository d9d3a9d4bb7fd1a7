"""Pre-receive input, push options and pusher identity: parsed strictly, never guessed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from twokey.errors import UsageError
from twokey.git import key_fingerprint, parse_updates, push_options, pusher_from_env
from twokey.model import ZERO_SHA, Alias, AliasKind

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


def test_signed_push_certificate_wins_and_matches_ssh_keygen(tmp_path: Path) -> None:
    key = tmp_path / "id"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    public = Alias.key((tmp_path / "id.pub").read_text())
    listed = subprocess.run(
        ["ssh-keygen", "-lf", str(key) + ".pub"], check=True, capture_output=True, text=True
    ).stdout.split()[1]
    assert key_fingerprint(public) == listed
    env = {
        "GIT_PUSH_CERT_STATUS": "G",
        "GIT_PUSH_CERT_KEY": listed,
        "TWOKEY_PUSHER": "email:someone@example.com",
    }
    assert pusher_from_env(env, [public]) == public
    env["GIT_PUSH_CERT_STATUS"] = "B"  # a bad signature proves nothing
    assert pusher_from_env(env, [public]) == Alias.email("someone@example.com")
