"""What of the hook's environment the hook may use: what git and the server set, nothing else.

githooks(5): the hook inherits the environment of ``git receive-pack``, and over some
transports that is the pusher's (the local transport; SSH with ``AcceptEnv`` or
``PermitUserEnvironment``). So in hook mode configuration comes only from the server
repository's git config, never from the environment (ADR 0013):

- ``TWOKEY_*`` variables are dropped, except ``TWOKEY_PUSHER``: the pusher's identity is what
  the *server* sets (an SSH forced command), like ``REMOTE_USER`` (a web server); see
  ``_pusher`` for that trust boundary.
- git's own ways to inject configuration into every git command (``GIT_CONFIG_PARAMETERS``,
  ``GIT_CONFIG_COUNT`` / ``GIT_CONFIG_KEY_<n>`` / ``GIT_CONFIG_VALUE_<n>``, ``GIT_CONFIG``,
  ``GIT_CONFIG_SYSTEM``, ``GIT_CONFIG_GLOBAL``; git-config(1), "ENVIRONMENT") are dropped, so
  that ``twokey.ledger``, ``twokey.repository`` and everything the gate's git commands read
  is the repository's own configuration.

What git itself sets for the hook (``GIT_DIR``, the quarantine's ``GIT_OBJECT_DIRECTORY`` and
``GIT_ALTERNATE_OBJECT_DIRECTORIES``, ``GIT_PUSH_OPTION_*``, ``GIT_PUSH_CERT*``) is kept.
"""

from __future__ import annotations

__all__ = ["hook_env"]

from collections.abc import Mapping

_IDENTITY = frozenset({"TWOKEY_PUSHER"})
_CONFIG = frozenset(
    {
        "GIT_CONFIG",
        "GIT_CONFIG_COUNT",
        "GIT_CONFIG_GLOBAL",
        "GIT_CONFIG_PARAMETERS",
        "GIT_CONFIG_SYSTEM",
    }
)


def hook_env(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without configuration a pusher could have set."""
    return {k: v for k, v in env.items() if _kept(k)}


def _kept(name: str) -> bool:
    if name.startswith("TWOKEY_"):
        return name in _IDENTITY
    if name in _CONFIG:
        return False
    return not name.startswith(("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_"))
