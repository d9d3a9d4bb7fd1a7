"""Review trailers (``Reviewed-by:``) as approvals, read the same way by the gate and the audit.

A trailer is an unverified claim (trust level ``trailer``, invariant 11): the policy's
``accept`` list decides whether it counts. Both doors read them here, so that a rule accepting
trailers means the same at the hook, in ``twokey check`` and in the audit (issue 15, item 17).
"""

from __future__ import annotations

__all__ = [
    "REVIEW_TRAILERS",
    "applied_approval",
    "claimed_approvals",
    "landing_heads",
    "trailer_approvals",
    "trailer_idents",
]

import re
from collections.abc import Iterable
from datetime import datetime

from twokey.git._trailers import parse_ident
from twokey.model import APPLIED, Alias, Approval, Change, Commit, TrustLevel

# Gerrit writes Reviewed-by (and Reviewed-on); the kernel Reviewed-by and Acked-by
# (Documentation/process/submitting-patches.rst); Approved-by is common elsewhere.
REVIEW_TRAILERS = frozenset({"reviewed-by", "acked-by", "approved-by"})
# An approved head is an object id, never a name git would resolve (``main``, ``HEAD~1``).
_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


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


def applied_approval(commit: Commit, repository: str, ref: str, when: datetime) -> Approval | None:
    """The committer of another's commit as its approver (evidence kind ``applied``).

    In a mailing-list workflow a maintainer applies a contributor's patch (``git am``): the
    author is the contributor, the committer the maintainer, who is the second person. The
    committer line is as much a claim as a trailer (anyone can write it), so its trust level
    is ``trailer``; it counts only where a rule says ``count_applied`` (the engine decides).
    None for a merge (merging is not applying) and when committer and author share an email.
    """
    committer, author = commit.committer.email.strip(), commit.author.email.strip()
    if commit.is_merge or not committer or committer.lower() == author.lower():
        return None
    signer = Alias.email(committer)
    return Approval(
        repository, ref, commit.sha, commit.tree, signer, when, TrustLevel.TRAILER, APPLIED
    )


def claimed_approvals(
    commit: Commit, repository: str, ref: str, when: datetime, *, applied: bool
) -> list[Approval]:
    """Every unverified claim of review on ``commit``: its review trailers and, when the
    policy counts it somewhere (``applied``), the committer who applied it."""
    out = trailer_approvals(commit, repository, ref, when) if commit.trailers else []
    found = applied_approval(commit, repository, ref, when) if applied else None
    return out if found is None else [*out, found]


def _ident(value: str) -> tuple[str, str] | None:
    ident = parse_ident(value)
    return (ident.name, ident.email.strip()) if ident is not None and ident.email.strip() else None


def landing_heads(change: Change, approvals: Iterable[Approval]) -> set[str]:
    """The approved heads whose landing the door must compute for ``change`` (ADR 0011).

    Not the new tip (its approval binds directly), not approvals for another repository or
    ref (replays, refused anyway), and not a commit the change itself builds on (the parent
    of a non-merge commit it brings): content landed after it, so its approval is stale. A
    merge's parents are computed (a clean merge of an approved head is how branches land).
    Only full object ids: a name git would resolve (``main``) could move under the approval.
    The gate and the audit both ask this, so they compute the same landings.
    """
    built_on = {p for c in change.commits if not c.is_merge for p in c.parents}
    return {
        a.commit
        for a in approvals
        if a.commit != change.new
        and a.repository == change.repository
        and a.ref == change.ref
        and a.commit not in built_on
        and _OBJECT_ID.fullmatch(a.commit)
    }
