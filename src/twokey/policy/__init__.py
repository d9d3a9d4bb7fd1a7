"""The policy file: schema, loading, errors with file:line, path-owner globs.

Public API:
    load(path) / loads(text, source) / load_cached(path) -> Policy
    PolicyError (a ConfigError, exit 2) carrying every Problem(file, line, column, message, hint)
    schema_text() -> the policy's JSON Schema (policy.schema.json), which the loader enforces
    loosenings(policy) -> every place a valid policy loosens a default invariant
    glob_to_regex(pattern, GlobKind.REF | GlobKind.PATH) -> Glob (linear-time matcher)
    the compiled policy types (Policy, RefRule, ApprovalRule, ...), see docs/policy.md

Names are imported on first use (PEP 562): naming ``Policy`` or ``DEFAULT_POLICY_PATH`` must not
import the loader (nor ruamel, which it imports only for a policy outside the YAML it reads
itself, ADR 0034); only calling ``load``/``loads`` does (they are thin functions here, so that
``from twokey.policy import loads`` in a door that usually reads a compiled policy costs
nothing until it compiles one). The doors' start-up time depends on it (issue 10 item 9,
tests/unit/test_startup_imports.py).
"""

from __future__ import annotations

# Not ``typing.TYPE_CHECKING``: importing typing costs start-up time (see twokey.git).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    from twokey.policy._environments import parse_freeze_window
    from twokey.policy._glob import Glob, GlobError, GlobKind, glob_to_regex, path_glob, ref_glob
    from twokey.policy._identities import Lookalikes, derived_aliases, skeleton
    from twokey.policy._loosenings import Loosening, loosenings
    from twokey.policy._model import (
        ApprovalRule,
        CheckRule,
        EnvironmentRule,
        Exclusion,
        FreezeWindow,
        KeyValidity,
        OwnerRule,
        Policy,
        Principal,
        RefRule,
    )
    from twokey.policy._paths import DEFAULT_POLICY_PATH
    from twokey.policy._problems import PolicyError, Problem
    from twokey.policy._schema import schema_text
    from twokey.policy._summary import break_glass_reviewers, policy_summary, roles

_LAZY = {
    "ApprovalRule": "twokey.policy._model",
    "CheckRule": "twokey.policy._model",
    "DEFAULT_POLICY_PATH": "twokey.policy._paths",
    "EnvironmentRule": "twokey.policy._model",
    "Exclusion": "twokey.policy._model",
    "FreezeWindow": "twokey.policy._model",
    "Glob": "twokey.policy._glob",
    "GlobError": "twokey.policy._glob",
    "GlobKind": "twokey.policy._glob",
    "KeyValidity": "twokey.policy._model",
    "Lookalikes": "twokey.policy._identities",
    "Loosening": "twokey.policy._loosenings",
    "OwnerRule": "twokey.policy._model",
    "Policy": "twokey.policy._model",
    "PolicyError": "twokey.policy._problems",
    "Principal": "twokey.policy._model",
    "Problem": "twokey.policy._problems",
    "RefRule": "twokey.policy._model",
    "derived_aliases": "twokey.policy._identities",
    "glob_to_regex": "twokey.policy._glob",
    "loosenings": "twokey.policy._loosenings",
    "parse_freeze_window": "twokey.policy._environments",
    "path_glob": "twokey.policy._glob",
    "ref_glob": "twokey.policy._glob",
    "schema_text": "twokey.policy._schema",
    "break_glass_reviewers": "twokey.policy._summary",
    "policy_summary": "twokey.policy._summary",
    "roles": "twokey.policy._summary",
    "skeleton": "twokey.policy._identities",
}

__all__ = [
    "DEFAULT_POLICY_PATH",
    "ApprovalRule",
    "CheckRule",
    "EnvironmentRule",
    "Exclusion",
    "FreezeWindow",
    "Glob",
    "GlobError",
    "GlobKind",
    "KeyValidity",
    "Lookalikes",
    "Loosening",
    "OwnerRule",
    "Policy",
    "PolicyError",
    "Principal",
    "Problem",
    "RefRule",
    "break_glass_reviewers",
    "derived_aliases",
    "glob_to_regex",
    "load",
    "load_cached",
    "loads",
    "loosenings",
    "parse_freeze_window",
    "path_glob",
    "policy_summary",
    "ref_glob",
    "roles",
    "schema_text",
    "skeleton",
]


def load(path: Path | str) -> Policy:
    """Load and validate the policy file at ``path`` (see ``_loader.load``).

    Raises:
        PolicyError: the file is invalid (every problem listed, with file:line:column).
        ConfigError: the file cannot be read.
    """
    from twokey.policy import _loader  # noqa: PLC0415 - the YAML parser: only when compiling

    return _loader.load(path)


def load_cached(path: Path | str) -> Policy:
    """Like :func:`load`, compiled once per distinct content (see ``_loader.load_cached``)."""
    from twokey.policy import _loader  # noqa: PLC0415

    return _loader.load_cached(path)


def loads(text: str | bytes, source: str = "<policy>") -> Policy:
    """Load and validate a policy from its bytes (e.g. a git blob); ``source`` names it."""
    from twokey.policy import _loader  # noqa: PLC0415

    return _loader.loads(text, source)


# mypy sees only the typed imports above, so a name that is not exported is an error there;
# at run time the names load on first use (PEP 562).
if not TYPE_CHECKING:
    from twokey._lazy import lazy_names

    __getattr__ = lazy_names(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(__all__)
