"""What of its environment the hook keeps (ADR 0013): git's own variables and the identity."""

from __future__ import annotations

from twokey.doors._hookenv import hook_env

ENV = {
    "GIT_DIR": ".",
    "GIT_QUARANTINE_PATH": "/q",
    "GIT_OBJECT_DIRECTORY": "/q",
    "GIT_PUSH_OPTION_COUNT": "1",
    "GIT_PUSH_CERT": "c" * 40,
    "TWOKEY_PUSHER": "email:alice@example.com",
    "REMOTE_USER": "alice",
    "PATH": "/usr/bin",
    "TWOKEY_LEDGER": "/tmp/theirs.db",
    "TWOKEY_HOOK_SOCKET": "/tmp/theirs.sock",
    "GIT_CONFIG_PARAMETERS": "'twokey.ledger'='/tmp/x'",
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "twokey.repository",
    "GIT_CONFIG_VALUE_0": "elsewhere",
    "GIT_CONFIG": "/tmp/config",
    "GIT_CONFIG_SYSTEM": "/tmp/system",
    "GIT_CONFIG_GLOBAL": "/tmp/global",
}
KEPT = {
    "GIT_DIR",
    "GIT_QUARANTINE_PATH",
    "GIT_OBJECT_DIRECTORY",
    "GIT_PUSH_OPTION_COUNT",
    "GIT_PUSH_CERT",
    "TWOKEY_PUSHER",
    "REMOTE_USER",
    "PATH",
}


def test_configuration_from_the_environment_is_dropped() -> None:
    assert set(hook_env(ENV)) == KEPT
