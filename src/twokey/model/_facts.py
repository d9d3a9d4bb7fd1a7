"""What a door hands the engine: the facts of one ref update or one deploy request."""

from __future__ import annotations

__all__ = ["DeployFacts", "Landing", "RefUpdateFacts"]

from dataclasses import dataclass

from twokey.model._evidence import (
    Approval,
    BreakGlass,
    BuildProvenance,
    CheckResult,
    DeployApproval,
    DeployRequest,
)
from twokey.model._git import Change, Commit


@dataclass(frozen=True, slots=True)
class Landing:
    """What landing an approved head on the ref's old tip gives (invariant 2, ADR 0011).

    ``head`` is the approved commit and ``head_tree`` its real tree ("" when the repository
    does not hold the commit); ``tree`` is the tree of the clean three-way merge of the ref's
    old tip with ``head`` (``git merge-tree --write-tree OLD HEAD``), the head's own tree when
    the ref is created, and "" when there is no clean merge (a conflict, unrelated histories,
    an unknown commit). ``commits`` are the commits landing it brings (``head ^old``, and
    not already reviewed), read only when ``tree`` is the new tree: a squash or rebase drops
    their authors from the change, yet they wrote what lands, so they are excluded too
    (invariant 3). The door computes it; the engine only compares trees.
    """

    head: str
    head_tree: str
    tree: str
    commits: tuple[Commit, ...] = ()


@dataclass(frozen=True, slots=True)
class RefUpdateFacts:
    """A ref update and the verified evidence gathered for it (any order; order never matters).

    ``rejected`` carries evidence the evidence layer could not accept, as (who, reason) pairs,
    so that the decision can say why it did not count (for example an unknown signer).
    ``break_glass`` is an emergency override asked for with the push (invariant 6).
    ``landings`` say, per approved head other than ``change.new``, what landing it on the
    ref's old tip gives; an approval of any other head binds to nothing (ADR 0011).
    """

    change: Change
    approvals: tuple[Approval, ...] = ()
    checks: tuple[CheckResult, ...] = ()
    rejected: tuple[tuple[str, str], ...] = ()
    break_glass: BreakGlass | None = None
    landings: tuple[Landing, ...] = ()


@dataclass(frozen=True, slots=True)
class DeployFacts:
    """A deploy request with its release and evidence.

    ``commit_refs`` are the refs from which the deployed commit is reachable.
    ``release`` are the commits the release brings (since the environment's last deploy) and
    ``release_approvals`` the approvals that let those commits land.
    """

    request: DeployRequest
    commit_refs: tuple[str, ...] = ()
    release: tuple[Commit, ...] = ()
    release_approvals: tuple[Approval, ...] = ()
    provenance: tuple[BuildProvenance, ...] = ()
    deploy_approvals: tuple[DeployApproval, ...] = ()
    checks: tuple[CheckResult, ...] = ()
    rejected: tuple[tuple[str, str], ...] = ()
