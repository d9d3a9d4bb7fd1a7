"""The package's errors, split by who must act.

A deny is a :class:`twokey.model.Decision`, never an exception. Exceptions are for situations in
which no decision can be made; every gate maps them to a deny (fail closed).
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ExitCode",
    "InfrastructureError",
    "TwokeyError",
    "UsageError",
    "VerificationError",
]

import enum


class ExitCode(enum.IntEnum):
    """Documented exit codes of every command used as a gate (a gate treats 3 as deny)."""

    ALLOW = 0
    DENY = 1
    USAGE = 2
    INTERNAL = 3


class TwokeyError(Exception):
    """Base error of the package.

    Args:
        message: one line saying what went wrong.
        hint: advice for the person who must act (optional).
    """

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def diagnostics(self) -> str:
        """The message and hint, formatted for a terminal."""
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class UsageError(TwokeyError):
    """The command line was wrong (the user must act)."""

    exit_code = ExitCode.USAGE


class ConfigError(TwokeyError):
    """The configuration or policy is invalid (the operator must act)."""

    exit_code = ExitCode.USAGE


class VerificationError(TwokeyError):
    """Evidence, a signature, a proof or a log failed verification (someone forged or broke it)."""

    exit_code = ExitCode.DENY


class InfrastructureError(TwokeyError):
    """Storage, git or the network failed; nothing could be decided (fail closed)."""

    exit_code = ExitCode.INTERNAL
