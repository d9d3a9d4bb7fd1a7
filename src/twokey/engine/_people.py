"""Who wrote, committed and pushed a change, collapsed to people (or unresolved aliases)."""

from __future__ import annotations

__all__ = ["Roles", "roles_of", "short"]

from collections.abc import Iterable
from dataclasses import dataclass, field

from twokey.model import Alias, Commit, Ident
from twokey.policy import Exclusion, Policy


def short(sha: str) -> str:
    """Seven hex digits, as git abbreviates."""
    return sha[:7]


@dataclass
class Roles:
    """Person id (or ``alias`` string when unknown) -> why, per exclusion kind."""

    by_kind: dict[Exclusion, dict[str, str]] = field(default_factory=dict)

    def add(self, kind: Exclusion, who: str, why: str) -> None:
        self.by_kind.setdefault(kind, {}).setdefault(who, why)

    def excluded(self, kinds: Iterable[Exclusion]) -> dict[str, str]:
        """Everyone excluded under ``kinds``, with the first reason found."""
        out: dict[str, str] = {}
        for kind in sorted(kinds):
            for who, why in self.by_kind.get(kind, {}).items():
                out.setdefault(who, why)
        return out

    def of(self, kind: Exclusion) -> dict[str, str]:
        """The people in one role."""
        return self.by_kind.get(kind, {})


def _who(policy: Policy, ident: Ident) -> list[str]:
    alias = ident.alias
    principal = policy.resolve(alias)
    if principal is None:
        return [str(alias)] if alias is not None else [f"name:{ident.name}"]
    # An AI agent's work counts against the people who direct it (invariant 10).
    return [principal.id, *principal.directed_by]


def roles_of(policy: Policy, commits: Iterable[Commit], pusher: Alias | None) -> Roles:
    """Authors, co-authors, committers and the pusher of ``commits``.

    A clean merge commit brings no content of its own, so its author and committer (the
    merger) are not counted as authors; a merge that is not clean is content like any commit.
    """
    roles = Roles()
    for commit in commits:
        if commit.is_merge and commit.clean_merge is True:
            continue
        where = short(commit.sha)
        for who in _who(policy, commit.author):
            roles.add(Exclusion.AUTHORS, who, f"an author of {where}")
        for co_author in commit.co_authors:
            for who in _who(policy, co_author):
                roles.add(Exclusion.CO_AUTHORS, who, f"a co-author of {where}")
        for who in _who(policy, commit.committer):
            roles.add(Exclusion.COMMITTERS, who, f"the committer of {where}")
    if pusher is not None:
        principal = policy.resolve(pusher)
        roles.add(
            Exclusion.LAST_PUSHER,
            principal.id if principal else str(pusher),
            "the pusher of this change",
        )
    return roles
