"""What the engine reads of a simple ref update: its shape, with the object ids left out.

Most of a long history is one person committing one change, reviewed by trailer. For such a
*simple* update the engine reads the object ids (the new tip, the old tip, the new tree) only
to compare them with each other and to name them in messages, so two simple updates of the
same :class:`ChangeShape` get the same decision with the ids renamed
(``tests/unit/engine/test_shape.py`` checks this against :func:`evaluate` with hypothesis).

The audit's fast lane keys its row templates on this shape (``twokey.audit._fast``): when the
engine starts reading something new of a change, it belongs here, and the property test fails
until it is.
"""

from __future__ import annotations

__all__ = ["ApprovalShape", "ChangeShape", "IdentShape", "shape_of"]

from collections.abc import Iterable
from dataclasses import dataclass

from twokey.model import ZERO_SHA, Approval, Change, Ident, RefUpdateFacts

# (name, email) of a git identity, as the commit spells them.
IdentShape = tuple[str, str]
# (signer, trust level, evidence id or source) of an approval of the new tip and its tree.
ApprovalShape = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class ChangeShape:
    """What the engine reads of a simple ref update (see the module).

    Attributes:
        repository: the gated repository.
        ref: the ref that moves.
        creates: the ref is created (no old tip).
        author: the commit's author.
        committer: the commit's committer.
        co_authors: its ``Co-authored-by`` identities, in order.
        approvals: its approvals, each of the new tip and its tree, sorted.
        paths: the paths the update changes.
    """

    repository: str
    ref: str
    creates: bool
    author: IdentShape
    committer: IdentShape
    co_authors: tuple[IdentShape, ...]
    approvals: tuple[ApprovalShape, ...]
    paths: tuple[str, ...]


def shape_of(facts: RefUpdateFacts) -> ChangeShape | None:
    """The shape of ``facts`` when it is a simple update, else None (then nothing is implied).

    Simple: (1) one commit, not a merge, that is the new tip with the new tree, unsigned;
    (2) a fast-forward or a creation to a commit, by nobody named (no pusher); (3) no check
    results, rejected evidence, break-glass or landings; (4) every approval is for this
    repository, ref, tip and tree.
    """
    change = facts.change
    if facts.checks or facts.rejected or facts.break_glass or facts.landings:  # (3)
        return None
    if not _simple_change(change):  # (1), (2)
        return None
    if not all(_approves_tip(a, change) for a in facts.approvals):  # (4)
        return None
    commit = change.commits[0]
    return ChangeShape(
        change.repository,
        change.ref,
        change.old == ZERO_SHA,
        _ident(commit.author),
        _ident(commit.committer),
        tuple(_ident(i) for i in commit.co_authors),
        approval_shapes(facts.approvals),
        change.paths,
    )


def approval_shapes(approvals: Iterable[Approval]) -> tuple[ApprovalShape, ...]:
    """The approvals part of a :class:`ChangeShape` (the engine counts them in any order)."""
    found = ((str(a.signer), a.trust.value, a.evidence_id or a.source) for a in approvals)
    return tuple(sorted(found))


def _simple_change(change: Change) -> bool:
    if len(change.commits) != 1 or change.pusher is not None:
        return False
    commit = change.commits[0]
    return (
        not commit.is_merge
        and commit.signature is None
        and commit.sha == change.new != ZERO_SHA
        and commit.tree == change.new_tree
        and change.fast_forward
        and change.new_type == "commit"
    )


def _approves_tip(approval: Approval, change: Change) -> bool:
    return (
        approval.repository == change.repository
        and approval.ref == change.ref
        and approval.commit == change.new
        and approval.tree == change.new_tree
    )


def _ident(ident: Ident) -> IdentShape:
    return (ident.name, ident.email)
