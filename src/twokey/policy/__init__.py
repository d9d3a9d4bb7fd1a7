"""The policy file: schema, loading, errors with file:line, path-owner globs.

Public API:
    load(path) / loads(text, source) / load_cached(path) -> Policy
    PolicyError (a ConfigError, exit 2) carrying every Problem(file, line, column, message, hint)
    schema_text() -> the policy's JSON Schema (policy.schema.json), which the loader enforces
    loosenings(policy) -> every place a valid policy loosens a default invariant
    glob_to_regex(pattern, GlobKind.REF | GlobKind.PATH) -> Glob (linear-time matcher)
    the compiled policy types (Policy, RefRule, ApprovalRule, ...), see docs/policy.md
"""

from twokey.policy._environments import parse_freeze_window
from twokey.policy._glob import Glob, GlobError, GlobKind, glob_to_regex, path_glob, ref_glob
from twokey.policy._identities import Lookalikes, derived_aliases, skeleton
from twokey.policy._loader import DEFAULT_POLICY_PATH, load, load_cached, loads
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
from twokey.policy._problems import PolicyError, Problem
from twokey.policy._schema import schema_text

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
    "derived_aliases",
    "glob_to_regex",
    "load",
    "load_cached",
    "loads",
    "loosenings",
    "parse_freeze_window",
    "path_glob",
    "ref_glob",
    "schema_text",
    "skeleton",
]
