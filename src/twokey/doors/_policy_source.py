"""The trusted policy of a repository: the one on its protected default branch.

A push never brings its own policy (invariant 7, ADR 0007): the hook reads
``.twokey/policy.yml`` from the default branch as it is *before* the push. Until that branch
carries a policy, the server admin's bootstrap policy (``$GIT_DIR/twokey/bootstrap-policy.yml``,
installed by ``twokey hook install --bootstrap-policy``) is trusted instead; without either,
nothing can be decided and every update is denied.

On the server, compiled policies are cached in ``$GIT_DIR/twokey/cache/`` as plain JSON
(``_policy_json``: no pickle, nothing that can run code), keyed by the policy blob id, its
origin and a digest of the code that defines the compiled form. The cache directory belongs to
the server account (a pusher cannot write there); a clone's ``.git`` belongs to whatever ran in
the job before, so ``twokey check`` and ``twokey deploy check`` never read a cache (ADR 0014).
"""

from __future__ import annotations

__all__ = ["BOOTSTRAP_FILE", "NoPolicyError", "TrustedPolicy", "load_blob", "trusted_policy"]

import json
import os
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from twokey import _sha2
from twokey.errors import ConfigError
from twokey.git import GitReader

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


def trusted_policy(
    reader: GitReader, default_ref: str | None = None, *, cached: bool = True
) -> TrustedPolicy:
    """The policy on ``default_ref`` (HEAD's branch by default), or the bootstrap policy.

    ``cached``: use the server's compiled-policy cache (the hook); a clone passes False.

    Raises:
        NoPolicyError: neither exists.
        PolicyError: the trusted policy is invalid (a policy error names file:line).
    """
    ref = default_ref or reader.head_ref()
    found = reader.blob_at(ref, POLICY_PATH) if ref else None
    if found is not None:
        blob, data = found
        origin = f"{ref}:{POLICY_PATH}"
        policy = load_blob(reader.git.git_dir, blob, data, origin, cached=cached)
        return TrustedPolicy(_protecting(policy, ref, origin), origin, blob)
    bootstrap = reader.git.git_dir / BOOTSTRAP_FILE
    if bootstrap.is_file():
        data = bootstrap.read_bytes()
        blob = "sha256-" + _sha2.sha256(data).hexdigest()
        policy = load_blob(reader.git.git_dir, blob, data, str(bootstrap), cached=cached)
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


def load_blob(
    git_dir: Path, blob: str, data: bytes, origin: str, *, cached: bool = False
) -> Policy:
    """Compile a policy blob; with ``cached``, through the server's JSON cache (by blob id).

    Only a server repository may pass ``cached``: its ``$GIT_DIR`` is the server account's.
    A cache entry that does not read back as a policy is ignored and rewritten.
    """
    from twokey.policy import Policy  # noqa: PLC0415 - the hook imports lazily

    if not cached:
        return _compiled(data, origin)
    path = git_dir / _CACHE_DIR / f"policy-{blob}-{_key(origin)}.json"
    found = _read_cache(path)
    if isinstance(found, Policy):
        return found
    policy = _compiled(data, origin)
    _store(path, policy)
    return policy


@lru_cache(maxsize=32)
def _compiled(data: bytes, origin: str) -> Policy:
    """The policy ``data`` compiles to, remembered by its exact bytes and origin for the life
    of the process (a long-lived gateway judges every request with the same few policies; a
    ``Policy`` is immutable; an invalid one raises and is not remembered)."""
    from twokey.policy import loads  # noqa: PLC0415 - the hook imports lazily

    return loads(data, origin)


def _key(origin: str) -> str:
    """The origin (named in findings) and the digest of the code of the compiled form."""
    return _sha2.sha256(f"{_code_digest()}\0{origin}".encode()).hexdigest()[:16]


@cache
def _code_digest() -> str:
    """SHA-256 over the source of ``twokey.policy``, ``twokey.model`` and the JSON form.

    A cache written by other code is never read: the version string alone does not change
    between development builds.
    """
    root = Path(__file__).resolve().parents[1]
    digest = _sha2.sha256()
    files = [*sorted((root / "policy").glob("*.py")), *sorted((root / "model").glob("*.py"))]
    for file in [*files, Path(__file__).with_name("_policy_json.py")]:
        digest.update(file.name.encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def _read_cache(path: Path) -> object:
    from twokey.doors._policy_json import UnsupportedError, decode  # noqa: PLC0415

    try:
        return decode(json.loads(path.read_bytes()))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, UnsupportedError):
        return None  # unreadable or not ours: compile again (and overwrite it)


def _store(path: Path, policy: Policy) -> None:
    """Write the JSON form, only when it reads back as exactly this policy."""
    from twokey.doors._policy_json import UnsupportedError, decode, encode  # noqa: PLC0415

    try:
        data = encode(policy)
        if decode(data) != policy:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, sort_keys=True, separators=(",", ":")))
        tmp.replace(path)
    except (OSError, UnsupportedError):
        return  # the cache is an optimisation: a read-only server compiles every time
