"""Who wrote, committed and pushed a change, collapsed to people (or unresolved aliases)."""

from __future__ import annotations

__all__ = ["Roles", "roles_of", "short"]

from collections.abc import Iterable
from dataclasses import dataclass, field

from twokey.engine._cache import identities
from twokey.model import Alias, Commit
from twokey.policy import Exclusion, Policy

_WHY = {
    Exclusion.AUTHORS: "an author of {}",
    Exclusion.CO_AUTHORS: "a co-author of {}",
    Exclusion.COMMITTERS: "the committer of {}",
    Exclusion.LAST_PUSHER: "the pusher of this change",
    Exclusion.APPROVERS: "an approver of {} in this release",
}


def short(sha: str) -> str:
    """Seven hex digits, as git abbreviates."""
    return sha[:7]


@dataclass
class Roles:
    """Person id (or ``alias`` string when unknown) -> first commit, per exclusion kind.

    Reasons are formatted only when asked for: the hot path stores commit ids.
    """

    by_kind: dict[Exclusion, dict[str, str]] = field(default_factory=dict)
    memo: dict[frozenset[Exclusion], dict[str, str]] = field(default_factory=dict)

    def add(self, kind: Exclusion, who: str, sha: str) -> None:
        """Record ``who`` in role ``kind`` (first commit wins)."""
        people = self.by_kind.get(kind)
        if people is None:
            self.by_kind[kind] = {who: sha}
        elif who not in people:
            people[who] = sha

    def excluded(self, kinds: frozenset[Exclusion]) -> dict[str, str]:
        """Everyone excluded under ``kinds``, with the first reason found (memoised)."""
        cached = self.memo.get(kinds)
        if cached is not None:
            return cached
        out: dict[str, str] = {}
        for kind in sorted(kinds):
            for who, sha in self.by_kind.get(kind, {}).items():
                if who not in out:
                    out[who] = _WHY[kind].format(short(sha))
        self.memo[kinds] = out
        return out

    def of(self, kind: Exclusion) -> dict[str, str]:
        """The people in one role, with reasons."""
        return self.excluded(frozenset({kind}))


def roles_of(policy: Policy, commits: Iterable[Commit], pusher: Alias | None) -> Roles:
    """Authors, co-authors, committers and the pusher of ``commits``.

    A clean merge commit brings no content of its own, so its author and committer (the
    merger) are not counted as authors; a merge that is not clean is content like any commit.
    """
    roles = Roles()
    cache = identities(policy)
    # First the distinct identities per role (cheap dict work), then resolve each once.
    firsts: dict[Exclusion, dict[tuple[str, str], str]] = {
        Exclusion.AUTHORS: {},
        Exclusion.CO_AUTHORS: {},
        Exclusion.COMMITTERS: {},
    }
    authors, co_authors, committers = firsts.values()
    for commit in commits:
        if commit.clean_merge is True and len(commit.parents) > 1:
            continue
        sha = commit.sha
        authors.setdefault((commit.author.email, commit.author.name), sha)
        committers.setdefault((commit.committer.email, commit.committer.name), sha)
        for co_author in commit.co_authors:
            co_authors.setdefault((co_author.email, co_author.name), sha)
    for kind, idents in firsts.items():
        for (email, name), sha in idents.items():
            for who in cache.who_by_email(email, name):
                roles.add(kind, who, sha)
    if pusher is not None:
        person = cache.principal_id(pusher)
        roles.add(Exclusion.LAST_PUSHER, person or str(pusher), "")
    return roles
