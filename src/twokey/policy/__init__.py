"""The policy file: schema, loading, errors with file:line, path-owner globs."""

from twokey.policy._glob import GlobError, path_glob, ref_glob
from twokey.policy._loader import DEFAULT_POLICY_PATH, load, load_cached, loads
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

__all__ = [
    "DEFAULT_POLICY_PATH",
    "ApprovalRule",
    "CheckRule",
    "EnvironmentRule",
    "Exclusion",
    "FreezeWindow",
    "GlobError",
    "KeyValidity",
    "OwnerRule",
    "Policy",
    "PolicyError",
    "Principal",
    "Problem",
    "RefRule",
    "load",
    "load_cached",
    "loads",
    "path_glob",
    "ref_glob",
]
