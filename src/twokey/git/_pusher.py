"""Who pushes: plain git has no pusher identity, so it comes from what the transport proved.

Order (the first that gives an answer wins):

1. a signed push certificate that git verified (``git push --signed``; ``GIT_PUSH_CERT_STATUS``
   is ``G`` and ``GIT_PUSH_CERT_KEY`` names the key), matched to a key in the policy by its
   SHA-256 fingerprint (git-receive-pack(1), "pre-receive hook");
2. ``TWOKEY_PUSHER``, set by the server (e.g. an SSH ``authorized_keys`` forced command,
   ``environment="TWOKEY_PUSHER=email:alice@example.com"``), as ``kind:value`` or an email;
3. ``REMOTE_USER``, set by a web server in front of git-http-backend after authentication.

None of these is more trustworthy than the transport that set it: over the local transport the
pusher sets its own environment. Nothing else (a commit's author, a push option) ever names the
pusher.
"""

from __future__ import annotations

__all__ = ["key_fingerprint", "pusher_from_env"]

import base64
import binascii
import hashlib
from collections.abc import Iterable, Mapping

from twokey.model import Alias, AliasKind


def key_fingerprint(key: Alias) -> str:
    """The ``SHA256:...`` fingerprint ssh-keygen prints for a key alias."""
    blob = base64.b64decode(key.value.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def pusher_from_env(env: Mapping[str, str], keys: Iterable[Alias] = ()) -> Alias | None:
    """The pusher's alias from the hook environment, or None when the transport named nobody.

    Args:
        env: the hook's environment.
        keys: key aliases known to the policy, to match a push certificate's key against.
    """
    if env.get("GIT_PUSH_CERT_STATUS") == "G" and env.get("GIT_PUSH_CERT_KEY"):
        found = _by_fingerprint(env["GIT_PUSH_CERT_KEY"], keys)
        if found is not None:
            return found
    for name in ("TWOKEY_PUSHER", "REMOTE_USER"):
        value = env.get(name, "").strip()
        if value:
            return _parse(value)
    return None


def _by_fingerprint(fingerprint: str, keys: Iterable[Alias]) -> Alias | None:
    for key in keys:
        if key.kind is not AliasKind.KEY:
            continue
        try:
            if key_fingerprint(key) == fingerprint.strip():
                return key
        except (binascii.Error, IndexError):
            continue
    return None


def _parse(value: str) -> Alias | None:
    """``kind:value`` in the normal form of its kind (emails and logins lower-cased)."""
    kind, sep, rest = value.partition(":")
    if not sep or kind not in {k.value for k in AliasKind}:
        return Alias.email(value) if "@" in value else None
    try:
        alias_kind = AliasKind(kind)
        if alias_kind is AliasKind.EMAIL:
            return Alias.email(rest)
        if alias_kind is AliasKind.KEY:
            return Alias.key(rest)
        return Alias.login(alias_kind, rest)
    except ValueError:
        return None
