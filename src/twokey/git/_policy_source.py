"""The trusted policy of a repository: the one on its protected default branch.

A push never brings its own policy (invariant 7, ADR 0007): the hook reads
``.twokey/policy.yml`` from the default branch as it is *before* the push. Until that branch
carries a policy, the server admin's bootstrap policy (``$GIT_DIR/twokey/bootstrap-policy.yml``,
installed by ``twokey hook install --bootstrap-policy``) is trusted instead; without either,
nothing can be decided and every update is denied.

Compiled policies are cached by blob id in ``$GIT_DIR/twokey/cache/`` (pickle): the cache
directory belongs to the server account, which can replace the hook itself anyway.
"""

from __future__ import annotations

__all__ = ["BOOTSTRAP_FILE", "NoPolicyError", "TrustedPolicy", "load_blob", "trusted_policy"]

import hashlib
import io
import os
import pickle
import types
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twokey.errors import ConfigError
from twokey.git._reader import GitReader

if TYPE_CHECKING:
    from twokey.policy import Policy

BOOTSTRAP_FILE = "twokey/bootstrap-policy.yml"
POLICY_PATH = ".twokey/policy.yml"
_CACHE_DIR = "twokey/cache"


class NoPolicyError(ConfigError):
    """The repository has no trusted policy yet (see the bootstrap step in docs/hook.md)."""


@dataclass(frozen=True)
class TrustedPolicy:
    """A policy and where it came from (``refs/heads/main:.twokey/policy.yml`` or bootstrap)."""

    policy: Policy
    origin: str
    blob: str
    bootstrap: bool = False


def trusted_policy(reader: GitReader, default_ref: str | None = None) -> TrustedPolicy:
    """The policy on ``default_ref`` (HEAD's branch by default), or the bootstrap policy.

    Raises:
        NoPolicyError: neither exists.
        PolicyError: the trusted policy is invalid (a policy error names file:line).
    """
    ref = default_ref or reader.head_ref()
    found = reader.blob_at(ref, POLICY_PATH) if ref else None
    if found is not None:
        blob, data = found
        origin = f"{ref}:{POLICY_PATH}"
        policy = load_blob(reader.git.git_dir, blob, data, origin)
        return TrustedPolicy(_protecting(policy, ref, origin), origin, blob)
    bootstrap = reader.git.git_dir / BOOTSTRAP_FILE
    if bootstrap.is_file():
        data = bootstrap.read_bytes()
        blob = "sha256-" + hashlib.sha256(data).hexdigest()
        policy = load_blob(reader.git.git_dir, blob, data, str(bootstrap))
        return TrustedPolicy(
            _protecting(policy, ref, str(bootstrap)), str(bootstrap), blob, bootstrap=True
        )
    raise NoPolicyError(
        f"no policy on {ref or 'the default branch'} ({POLICY_PATH}) and no bootstrap policy",
        hint="the first policy needs its own step: twokey hook install BARE-REPO "
        "--bootstrap-policy FILE (see docs/hook.md, 'Bootstrap')",
    )


def _protecting(policy: Policy, ref: str | None, origin: str) -> Policy:
    """The policy must protect the branch it lives on (invariant 7, fail closed).

    A policy that leaves its own branch unprotected could be changed by anyone: the engine
    applies the policy-change rule only on protected refs.
    """
    if ref and ref.startswith("refs/") and policy.ref_rule(ref) is None:
        raise ConfigError(
            f"the policy at {origin} does not protect {ref}, the branch it lives on",
            hint=f"add a rule for {ref} under branches: (a policy must guard its own changes)",
        )
    return policy


def load_blob(git_dir: Path, blob: str, data: bytes, origin: str) -> Policy:
    """Compile a policy blob, through the per-repository cache keyed by its blob id."""
    from twokey.policy import Policy, loads  # noqa: PLC0415 - the hook imports lazily

    cache = git_dir / _CACHE_DIR / f"policy-{blob}-{_key(origin)}.pickle"
    try:
        cached = pickle.loads(cache.read_bytes())  # noqa: S301 - our own cache, see module doc
        if isinstance(cached, Policy):
            return cached
    except Exception:  # noqa: S110 - no cache yet, or an unusable one: compile again
        pass
    policy = loads(data, origin)
    _store(cache, policy)
    return policy


def _key(origin: str) -> str:
    from twokey import __version__  # noqa: PLC0415

    # A cache written by another twokey version is never read: its classes may differ.
    return hashlib.sha256(f"{__version__}\0{origin}".encode()).hexdigest()[:12]


def _proxy(items: dict[object, object]) -> Mapping[object, object]:
    """Rebuilds a read-only mapping when a cached policy is unpickled."""
    return types.MappingProxyType(items)


class _Pickler(pickle.Pickler):
    """Pickles the policy's read-only mappings (``mappingproxy`` has no pickle support)."""

    def reducer_override(self, obj: object) -> Any:
        if isinstance(obj, types.MappingProxyType):
            return _proxy, (dict(obj),)
        return NotImplemented


def _store(cache: Path, policy: Policy) -> None:
    try:
        buffer = io.BytesIO()
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(policy)
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(buffer.getvalue())
        tmp.replace(cache)
    except Exception:  # noqa: S110 - the cache is an optimisation; never fail on it
        pass
