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
    "counts",
    "trailer_approvals",
    "trailer_idents",
]

from datetime import datetime

from twokey.audit._model import ApproverRow
from twokey.git._trailers import parse_ident
from twokey.model import ZERO_SHA, Alias, Approval, Change, Commit, TrustLevel
from twokey.policy import Policy

# Gerrit writes Reviewed-by (and Reviewed-on); the kernel Reviewed-by and Acked-by
# (Documentation/process/submitting-patches.rst); Approved-by is common elsewhere.
REVIEW_TRAILERS = frozenset({"reviewed-by", "acked-by", "approved-by"})


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


def trailer_idents(commit: Commit) -> list[tuple[str, str]]:
    """(name, email) of everyone a review trailer names."""
    out = []
    for key, value in commit.trailers:
        if key.lower() in REVIEW_TRAILERS:
            ident = parse_ident(value)
            if ident is not None and ident.email:
                out.append((ident.name, ident.email))
    return out


def trailer_approvals(commit: Commit, repository: str, ref: str, when: datetime) -> list[Approval]:
    """Review trailers of ``commit`` as approvals of that commit (trust: trailer).

    Each binds to the commit that carries it: on the landing commit (or on the merged head of
    a clean merge) it covers the change; on an older commit of a merge the engine calls it
    stale, as it would a signed approval of that commit.
    """
    out = []
    for key, value in commit.trailers:
        ident = _ident(value) if key.lower() in REVIEW_TRAILERS else None
        if ident is not None:
            signer = Alias.email(ident[1])
            source = f"trailer:{key}"
            out.append(
                Approval(
                    repository,
                    ref,
                    commit.sha,
                    commit.tree,
                    signer,
                    when,
                    TrustLevel.TRAILER,
                    source,
                )
            )
    return out


def _ident(value: str) -> tuple[str, str] | None:
    ident = parse_ident(value)
    return (ident.name, ident.email.strip()) if ident is not None and ident.email.strip() else None


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
