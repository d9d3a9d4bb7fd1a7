"""Who pushes: plain git has no pusher identity, so it comes from what the transport proved.

The trust boundary (ADR 0013): the hook's environment is written by whoever runs
``git receive-pack``. ``TWOKEY_PUSHER`` and ``REMOTE_USER`` are trusted because, on a real
server, the *server* sets them after authenticating the pusher (an SSH ``authorized_keys``
forced command, ``environment="TWOKEY_PUSHER=email:alice@example.com"``; a web server in front
of git-http-backend). Over the local (file) transport, or an SSH server that lets clients pass
environment variables (``AcceptEnv``, ``PermitUserEnvironment``), the pusher writes them
themselves: such a server has no authenticated pusher, and its ``last-pusher`` exclusion and
break-glass are only as good as that.

1. The transport's identity: ``TWOKEY_PUSHER`` (``kind:value``, an email, or a bare name),
   else ``REMOTE_USER`` (an email or a bare name). A bare name maps to a principal through
   the policy: a person (or service) id first, then a declared forge login (github, gitlab,
   gerrit) that exactly one principal holds; anything else names nobody.
2. A signed push certificate (``_pushcert``), verified by the hook itself, with git's nonce
   ``OK``. It names the pusher when the transport named nobody, and never overrides the
   transport: if both name someone and they are not the same principal, the push is refused.

Nothing else (a commit's author, a push option) ever names the pusher.
"""

from __future__ import annotations

__all__ = ["PusherVerdict", "identify_pusher", "key_fingerprint", "pusher_from_env"]

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from twokey import _sha2
from twokey.model import Alias, AliasKind

if TYPE_CHECKING:
    from twokey.doors._pushcert import CertVerdict
    from twokey.policy import Policy

_FORGES = (AliasKind.GITHUB, AliasKind.GITLAB, AliasKind.GERRIT)


@dataclass(frozen=True, slots=True)
class PusherVerdict:
    """The pusher's alias (None: nobody), or why the push must be refused (``problem``)."""

    pusher: Alias | None = None
    problem: str = ""
    mismatch: bool = False  # the problem is two identities that disagree


def key_fingerprint(key: Alias) -> str:
    """The ``SHA256:...`` fingerprint ssh-keygen prints for a key alias."""
    blob = base64.b64decode(key.value.split()[1])
    return "SHA256:" + base64.b64encode(_sha2.sha256(blob).digest()).decode().rstrip("=")


def identify_pusher(
    env: Mapping[str, str], policy: Policy, cert: CertVerdict | None = None
) -> PusherVerdict:
    """Who pushes, from the transport and the push certificate (rules in the module doc)."""
    transport = pusher_from_env(env, policy)
    if cert is None or (cert.signer is None and not cert.problem):
        return PusherVerdict(transport)
    if cert.problem:
        return PusherVerdict(None, cert.problem)
    if transport is None:
        return PusherVerdict(cert.signer)
    said, signed = policy.resolve(transport), policy.resolve(cert.signer)
    if said is None or signed is None or said.id != signed.id:
        who = said.id if said is not None else str(transport)
        by = signed.id if signed is not None else str(cert.signer)
        return PusherVerdict(
            None,
            f"the transport authenticated {who}, but the push certificate is signed by {by}",
            mismatch=True,
        )
    return PusherVerdict(transport)


def pusher_from_env(env: Mapping[str, str], policy: Policy | None = None) -> Alias | None:
    """The transport's pusher: ``TWOKEY_PUSHER``, else ``REMOTE_USER``; None for nobody.

    Args:
        env: the hook's environment.
        policy: maps a bare name (``alice``) to a principal; without it a bare name is nobody.
    """
    for name in ("TWOKEY_PUSHER", "REMOTE_USER"):
        value = env.get(name, "").strip()
        if value:
            return _parse(value, policy)
    return None


def _parse(value: str, policy: Policy | None) -> Alias | None:
    """``kind:value`` in the normal form of its kind; an email; or a bare name via the policy."""
    kind, sep, rest = value.partition(":")
    if not sep or kind not in {k.value for k in AliasKind}:
        if "@" in value:
            return Alias.email(value)
        return _by_name(value, policy) if policy is not None and not sep else None
    try:
        alias_kind = AliasKind(kind)
        if alias_kind is AliasKind.EMAIL:
            return Alias.email(rest)
        if alias_kind is AliasKind.KEY:
            return Alias.key(rest)
        return Alias.login(alias_kind, rest)
    except ValueError:
        return None


def _by_name(name: str, policy: Policy) -> Alias | None:
    """A principal id first, then a forge login only one principal declares; else nobody."""
    principal = policy.principals.get(name)
    if principal is None:
        owners = {
            policy.aliases[alias]
            for alias in (Alias.login(forge, name) for forge in _FORGES)
            if alias in policy.aliases
        }
        if len(owners) != 1:
            return None  # unknown, or ambiguous: fail closed
        principal = policy.principals[owners.pop()]
    return min(principal.aliases, default=None)
