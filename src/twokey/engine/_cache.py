"""Per-policy lookups computed once: the engine is called many times with one policy.

Keyed by the policy's digest (the hash of its exact bytes), so equal policies share them;
a policy without a digest (built in code) is never cached.
"""

from __future__ import annotations

__all__ = ["IdentityCache", "identities"]

from collections import OrderedDict

from twokey.model import Alias
from twokey.policy import Policy

_MAX_POLICIES = 16
_CACHES: OrderedDict[str, IdentityCache] = OrderedDict()


class IdentityCache:
    """Email and alias resolution for one policy, memoised."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._emails: dict[str, tuple[str, ...]] = {}
        self._aliases: dict[Alias, str | None] = {}

    def who_by_email(self, email: str, name: str) -> tuple[str, ...]:
        """Person ids (plus the people directing an agent) behind a git email, or the alias."""
        found = self._emails.get(email)
        if found is None:
            found = self._resolve_email(email, name)
            self._emails[email] = found
        return found

    def _resolve_email(self, email: str, name: str) -> tuple[str, ...]:
        address = email.strip()
        if not address:
            return (f"name:{name}",)
        alias = Alias.email(address)
        principal = self.policy.resolve(alias)
        if principal is None:
            return (str(alias),)
        return (principal.id, *principal.directed_by)

    def principal_id(self, alias: Alias) -> str | None:
        """The principal an alias belongs to, memoised."""
        if alias in self._aliases:
            return self._aliases[alias]
        principal = self.policy.resolve(alias)
        result = principal.id if principal is not None else None
        self._aliases[alias] = result
        return result


def identities(policy: Policy) -> IdentityCache:
    """The identity cache of ``policy`` (fresh when it has no digest)."""
    if not policy.digest:
        return IdentityCache(policy)
    cache = _CACHES.get(policy.digest)
    if cache is None or (cache.policy is not policy and cache.policy != policy):
        cache = IdentityCache(policy)
        _CACHES[policy.digest] = cache
        if len(_CACHES) > _MAX_POLICIES:
            _CACHES.popitem(last=False)
    return cache
