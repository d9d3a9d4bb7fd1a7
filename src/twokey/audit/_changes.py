"""From a first-parent commit to the engine's facts, and from the decision to a report row.

A change is one first-parent commit: a merge (with the commits it brings, read exactly as the
gate reads a push) or a squash or direct commit. Its approvals come from every source; the
engine alone decides which count (invariant 11: ``accept`` levels; invariant 2: binding).
"""

from __future__ import annotations

__all__ = [
    "REVIEW_TRAILERS",
    "approver_row",
    "build_change",
    "claimed_approvals",
    "counts",
    "counts_applied",
    "trailer_approvals",
    "trailer_idents",
]


from twokey.audit._model import ApproverRow
from twokey.git import REVIEW_TRAILERS, claimed_approvals, trailer_approvals, trailer_idents
from twokey.model import ZERO_SHA, Alias, Approval, Change, Commit, TrustLevel
from twokey.policy import Policy


def build_change(
    brought: list[Commit] | None, commit: Commit, repository: str, ref: str, pusher: Alias | None
) -> tuple[Change, str]:
    """The change ``first parent -> commit`` and its kind (``merge`` or ``squash-or-direct``).

    ``brought`` are a merge's commits as :func:`brought_commits` reads them (None otherwise).
    """
    old = commit.parents[0] if commit.parents else ZERO_SHA
    if commit.is_merge:
        if brought is None:
            raise ValueError(f"merge {commit.sha[:12]} needs the commits it brings")
        commits = tuple(brought)
        kind = "merge"
    else:
        commits, kind = (commit,), "squash-or-direct"
    # The history reader gives the landing commit's paths against its first parent when the
    # policy needs paths: exactly the gate's `git diff --name-only old new`.
    return Change(
        repository, ref, old, commit.sha, commit.tree, commits, True, commit.paths, pusher
    ), kind


def counts_applied(policy: Policy, ref: str) -> bool:
    """True when ``ref``'s rule counts ``applied`` evidence: then the audit gathers it."""
    rule = policy.ref_rule(ref)
    return rule is not None and rule.counts_applied


def counts(person: str, approval: Approval, counted: frozenset[tuple[str, str, str]]) -> bool:
    """True when the engine counted this very approval (not only its person)."""
    evidence = approval.evidence_id or approval.source
    return (person, approval.trust.value, evidence) in counted


def approver_row(
    policy: Policy, approval: Approval, counted: frozenset[tuple[str, str, str]]
) -> ApproverRow:
    """A report row for one approval: who (person id, or the alias), source, trust, counted."""
    principal = policy.resolve(approval.signer)
    if principal is not None:
        who = principal.id
    elif approval.signer.kind == "email":
        who = approval.signer.value.lower()
    else:
        who = str(approval.signer)[:40]
    source = approval.source
    if source.startswith("refs/"):
        source = "twokey evidence ref"
    email = approval.signer.value.lower() if approval.signer.kind == "email" else ""
    timed = approval.trust is not TrustLevel.TRAILER
    return ApproverRow(
        who,
        source,
        approval.trust.value,
        principal is not None and counts(principal.id, approval, counted),
        email,
        approval.time.isoformat() if timed else None,
    )
