"""Who wrote, committed and pushed a change, collapsed to people (or unresolved aliases)."""

# No ``from __future__ import annotations``: typing.NamedTuple turns a string annotation into a
# ForwardRef, which compiles it, and the first compile() of a process builds the AST types
# (~9 M instructions of a deploy check, ADR 0040). Annotations here are evaluated at definition.

__all__ = ["Roles", "Why", "roles_of", "short", "why_text"]

from collections.abc import Iterable
from typing import NamedTuple

from twokey.engine._cache import PolicyIndex
from twokey.model import Alias, Commit
from twokey.policy import Exclusion

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


class Why(NamedTuple):
    """Why someone is excluded: the role (``kind``), and the first commit it was found in
    (``commit``; "" for the pusher). Built per identity per decision: a NamedTuple, since a
    frozen dataclass costs three times as much."""

    kind: Exclusion
    commit: str
    role: str = ""  # said instead of the kind's words (a deploy's deployer or requester)


def why_text(why: Why) -> str:
    """E.g. ``an author of 0123abc``; built only when a message needs it."""
    return why.role or _WHY[why.kind].format(short(why.commit))


class Roles:
    """Per exclusion kind: person id (or ``alias`` string when unknown) -> the first commit it
    was found in ("" for the pusher)."""

    __slots__ = ("by_kind", "memo")

    def __init__(self) -> None:
        self.by_kind: dict[Exclusion, dict[str, str]] = {}
        self.memo: dict[frozenset[Exclusion], dict[str, Why]] = {}

    def excluded(self, kinds: frozenset[Exclusion]) -> dict[str, Why]:
        """Everyone excluded under ``kinds``, with the first reason in kind order (memoised)."""
        cached = self.memo.get(kinds)
        if cached is not None:
            return cached
        out: dict[str, Why] = {}
        for kind in sorted(kinds):
            for who, commit in self.by_kind.get(kind, {}).items():
                if who not in out:
                    out[who] = Why(kind, commit)
        self.memo[kinds] = out
        return out


def roles_of(index: PolicyIndex, commits: Iterable[Commit], pusher: Alias | None) -> Roles:
    """Authors, co-authors, committers and the pusher of ``commits``.

    A clean merge commit brings no content of its own, so its author and committer (the
    merger) are not counted as authors; a merge that is not clean is content like any commit.
    """
    roles = Roles()
    # First the distinct identities per role (cheap dict work), then resolve each once.
    # An identity is its email; one git recorded without an email is told apart by its name,
    # keyed as a 1-tuple, which no email string can equal. The first name seen speaks for it.
    authors: dict[str | tuple[str], tuple[str, str]] = {}
    co_authors: dict[str | tuple[str], tuple[str, str]] = {}
    committers: dict[str | tuple[str], tuple[str, str]] = {}
    for commit in commits:
        if commit.clean_merge is True and len(commit.parents) > 1:
            continue
        ident = commit.author
        key = ident.email or (ident.name,)
        if key not in authors:
            authors[key] = (commit.sha, ident.name)
        ident = commit.committer
        key = ident.email or (ident.name,)
        if key not in committers:
            committers[key] = (commit.sha, ident.name)
        for ident in commit.co_authors:
            key = ident.email or (ident.name,)
            if key not in co_authors:
                co_authors[key] = (commit.sha, ident.name)
    for kind, idents in (
        (Exclusion.AUTHORS, authors),
        (Exclusion.CO_AUTHORS, co_authors),
        (Exclusion.COMMITTERS, committers),
    ):
        people: dict[str, str] = {}
        for key, (sha, name) in idents.items():
            email = key if isinstance(key, str) else ""
            for who in index.who_by_email(email, name):
                if who not in people:
                    people[who] = sha
        roles.by_kind[kind] = people
    if pusher is not None:
        person = index.principal_id(pusher) or str(pusher)
        roles.by_kind[Exclusion.LAST_PUSHER] = {person: ""}
    return roles
