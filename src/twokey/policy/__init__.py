"""The policy file: schema, loading, errors with file:line, path-owner globs."""

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

__all__ = [
    "ApprovalRule",
    "CheckRule",
    "EnvironmentRule",
    "Exclusion",
    "FreezeWindow",
    "KeyValidity",
    "OwnerRule",
    "Policy",
    "Principal",
    "RefRule",
]
