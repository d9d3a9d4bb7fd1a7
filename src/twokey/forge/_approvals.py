"""Forge reviews become approvals (trust ``forge``) for the exact commit they were given on.

What counts, per pull/merge request (docs/forges.md, "What counts"):

1. each reviewer's latest decisive review decides: ``approved`` is an approval, a later
   ``changes_requested`` or a dismissal (GitLab: an unapproval) withdraws it; comments
   change nothing;
2. a bot or app (``[bot]`` logins, type ``Bot``, GitLab access-token users) is a service and
   never approves (``SERVICE_APPROVAL``), whatever the policy says of its login;
3. the pull request's author and the last pusher of its head never approve it
   (``SELF_APPROVAL``), under any alias of theirs: the forge's own idea of who proposed the
   change, beside the commit authors and co-authors the engine excludes;
4. the approval names the reviewed commit and its tree as this repository holds them, so an
   approval of an older head is stale for new content (the engine compares trees); a commit the
   repository lacks is refused;
5. the login is mapped to a person by the policy's forge aliases (``github: bob``); a login the
   policy does not know is left to the engine, which never counts it (``UNKNOWN_SIGNER``).
"""

from __future__ import annotations

__all__ = ["forge_approvals"]

from collections.abc import Sequence
from typing import TYPE_CHECKING

from twokey.forge._events import Login, gitlab_login
from twokey.forge._store import ChangeState, ForgeReview
from twokey.forge._webhooks import GITHUB
from twokey.model import Approval, TrustLevel

if TYPE_CHECKING:
    from twokey.git import GitReader
    from twokey.policy import Policy

_DECISIVE = frozenset({"approved", "changes_requested", "dismissed"})


def forge_approvals(
    reviews: Sequence[ForgeReview],
    change: ChangeState,
    policy: Policy,
    reader: GitReader,
    repository: str,
) -> tuple[list[Approval], list[tuple[str, str]]]:
    """Steps 1-5 of the module docstring: the approvals, and the refused as (who, reason)."""
    approvals: list[Approval] = []
    refused: list[tuple[str, str]] = []
    proposers = _proposers(change)
    for review in _latest(reviews):  # step 1
        who = f"{review.forge}:{review.login}"
        problem = _refusal(review, proposers, policy)  # steps 2, 3
        tree = reader.resolve(f"{review.commit}^{{tree}}") if problem is None else None
        if problem is None and tree is None:  # step 4
            problem = f"the reviewed commit {review.commit[:12]} is not in this repository"
        if problem is not None:
            refused.append((who, problem))
            continue
        assert tree is not None
        approvals.append(_approval(review, change, repository, tree))  # step 5: by alias
    return approvals, refused


def _latest(reviews: Sequence[ForgeReview]) -> list[ForgeReview]:
    """Each reviewer's latest decisive review, when it approves (reviews come oldest first)."""
    latest: dict[str, ForgeReview] = {}
    for review in reviews:
        if review.state in _DECISIVE:
            latest[review.login.lower()] = review
    return [r for r in latest.values() if r.state == "approved"]


def _proposers(change: ChangeState) -> list[tuple[Login, str]]:
    make = (lambda x: Login(GITHUB, x)) if change.forge == GITHUB else _gitlab
    out = [(make(change.author), "opened this pull request")] if change.author else []
    if change.pusher:
        out.append((make(change.pusher), "pushed its head"))
    return out


def _gitlab(login: str) -> Login:
    return gitlab_login("gitlab", login)


def _refusal(review: ForgeReview, proposers: list[tuple[Login, str]], policy: Policy) -> str | None:
    reviewer = Login(review.forge, review.login, review.bot)
    if review.bot:
        return f"SERVICE_APPROVAL: {reviewer} is a bot or app; services never approve"
    person = policy.resolve(reviewer.alias)
    for proposer, what in proposers:
        same_login = proposer.login.lower() == reviewer.login.lower()
        other = policy.resolve(proposer.alias)
        if same_login or (person is not None and other is not None and other.id == person.id):
            return f"SELF_APPROVAL: {reviewer} {what}; nobody approves their own change"
    return None


def _approval(review: ForgeReview, change: ChangeState, repository: str, tree: str) -> Approval:
    what = "review" if review.forge == GITHUB else "approval"
    return Approval(
        repository,
        change.base_ref,
        review.commit,
        tree,
        Login(review.forge, review.login).alias,
        review.time,
        TrustLevel.FORGE,
        f"{review.forge} {what} {review.review} (delivery {review.delivery})",
        evidence_id=f"forge:{review.forge}:{review.delivery}",
    )
