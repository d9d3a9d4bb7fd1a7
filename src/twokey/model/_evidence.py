"""Evidence: signed or recorded statements about changes and artifacts, already verified.

These are the engine's view of evidence. The evidence layer (``twokey.evidence``) parses and
verifies envelopes and signatures and hands over these objects: ``signer`` is the alias whose
signature verified (a key) or the channel's authenticated identity (a forge login), or, at the
``TRAILER`` level, merely what a commit message claims.
"""

from __future__ import annotations

__all__ = [
    "APPLIED",
    "Approval",
    "BreakGlass",
    "BuildProvenance",
    "CheckResult",
    "DeployApproval",
    "DeployRequest",
    "Evidence",
    "TrustLevel",
]

import enum
from dataclasses import dataclass
from datetime import datetime

from twokey.model._identity import Alias


class TrustLevel(enum.StrEnum):
    """How far a piece of evidence can be trusted (DESIGN invariant 11)."""

    SIGNED = "signed"  # signed by a registered key, verified over the exact bytes
    FORGE = "forge"  # recorded from a forge over an authenticated webhook or API
    TRAILER = "trailer"  # merely claimed in a commit message trailer


# The evidence kind (an approval's ``source``) of a committer who applied another's patch
# (``git am``: committer not the author): a claim at trust level TRAILER, counted only where a
# rule says ``count_applied``.
APPLIED = "applied"


def _aware(value: datetime, what: str) -> None:
    if value.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware")


@dataclass(frozen=True, slots=True)
class Approval:
    """A reviewer approves *content*: a commit and its tree, on a ref of a repository."""

    repository: str
    ref: str
    commit: str
    tree: str
    signer: Alias
    time: datetime
    trust: TrustLevel = TrustLevel.SIGNED
    source: str = ""
    comment: str = ""
    evidence_id: str = ""

    def __post_init__(self) -> None:
        _aware(self.time, "Approval.time")


@dataclass(frozen=True, slots=True)
class BuildProvenance:
    """A builder says artifact ``artifact`` (``sha256:<hex>``) was built from ``commit``."""

    artifact: str
    repository: str
    commit: str
    signer: Alias
    time: datetime
    trust: TrustLevel = TrustLevel.SIGNED
    source: str = ""
    evidence_id: str = ""

    def __post_init__(self) -> None:
        _aware(self.time, "BuildProvenance.time")


@dataclass(frozen=True, slots=True)
class CheckResult:
    """An automated check (tests, a scanner) passed or failed for exact content (invariant 13).

    ``subject`` is a tree id for ref updates, or an artifact digest for deploys.
    """

    name: str
    repository: str
    subject: str
    passed: bool
    signer: Alias
    time: datetime
    trust: TrustLevel = TrustLevel.SIGNED
    source: str = ""
    evidence_id: str = ""

    def __post_init__(self) -> None:
        _aware(self.time, "CheckResult.time")


@dataclass(frozen=True, slots=True)
class DeployApproval:
    """An operator approves deploying ``artifact`` (built from ``commit``) to ``environment``.

    ``repository`` binds it to one repository: an approval signed for another never counts.
    """

    artifact: str
    environment: str
    commit: str
    signer: Alias
    time: datetime
    trust: TrustLevel = TrustLevel.SIGNED
    source: str = ""
    comment: str = ""
    evidence_id: str = ""
    repository: str = ""

    def __post_init__(self) -> None:
        _aware(self.time, "DeployApproval.time")


@dataclass(frozen=True, slots=True)
class BreakGlassReview:
    """Someone reviews a break-glass after the fact (invariant 6): the exception it closes.

    The exception is a ledger entry (a gate decision or a deploy by break-glass), named by its
    index and the SHA-256 of its exact bytes; ``verdict`` is ``justified`` or ``unjustified``
    (either closes the exception; the report shows which).
    """

    entry: int
    entry_sha256: str
    verdict: str
    signer: Alias
    time: datetime
    comment: str = ""
    source: str = ""
    evidence_id: str = ""

    def __post_init__(self) -> None:
        _aware(self.time, "BreakGlassReview.time")
        if self.verdict not in REVIEW_VERDICTS:
            raise ValueError(f"BreakGlassReview.verdict must be one of {REVIEW_VERDICTS}")


REVIEW_VERDICTS = ("justified", "unjustified")


@dataclass(frozen=True, slots=True)
class BreakGlass:
    """An emergency override: who invoked it, and why (invariant 6)."""

    actor: Alias
    reason: str
    time: datetime

    def __post_init__(self) -> None:
        _aware(self.time, "BreakGlass.time")


@dataclass(frozen=True, slots=True)
class DeployRequest:
    """A request to deploy an artifact to an environment, carried out by ``deployer``."""

    id: str
    repository: str
    environment: str
    artifact: str
    commit: str
    requester: Alias
    deployer: Alias
    time: datetime
    break_glass: BreakGlass | None = None

    def __post_init__(self) -> None:
        _aware(self.time, "DeployRequest.time")


Evidence = Approval | BuildProvenance | CheckResult | DeployApproval
