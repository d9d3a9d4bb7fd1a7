"""What ``twokey audit`` audits, and with what: the walk's options (imported first and cheaply,
before the walk's modules: ``twokey.audit._early``)."""

from __future__ import annotations

__all__ = ["AuditOptions"]

from dataclasses import dataclass
from pathlib import Path

from twokey.errors import UsageError


@dataclass(frozen=True)
class AuditOptions:
    """What to audit, and with what.

    Attributes:
        repo: a work tree or bare repository.
        ref: the audited ref (``main`` means ``refs/heads/main``).
        since: only changes committed after this (any date git's ``--since`` reads).
        until: only changes committed before this.
        policy: a policy file; None applies the default (docs/audit.md).
        identities: confirmed aliases, email -> the person's canonical email (default policy).
        ledger: a ledger URL whose decisions, forge approvals and deploys are used.
        ledger_key: the ledger's public key file its checkpoints must be signed with.
        default_ref: the repository's default branch, whose ``.twokey/policy.yml`` judges
            each change when no ``policy`` is given (None: the audited ref).
    """

    repo: Path
    ref: str = "refs/heads/main"
    since: str | None = None
    until: str | None = None
    policy: Path | None = None
    identities: dict[str, str] | None = None
    ledger: str | None = None
    ledger_key: str | None = None  # the ledger's public key file (default $TWOKEY_LEDGER_KEY)
    default_ref: str | None = None

    def __post_init__(self) -> None:
        if not self.ref.strip():
            raise UsageError("--ref must name a ref, e.g. refs/heads/main")

    @property
    def full_ref(self) -> str:
        """The ref with its namespace."""
        return self.ref if self.ref.startswith("refs/") else f"refs/heads/{self.ref}"
