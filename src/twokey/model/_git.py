"""Facts about git: commits and proposed ref updates (changes)."""

from __future__ import annotations

__all__ = ["ZERO_SHA", "Change", "Commit", "CommitSignature", "Ident", "UpdateKind"]

import enum
from dataclasses import dataclass
from datetime import datetime

from twokey.model._identity import Alias

ZERO_SHA = "0" * 40


@dataclass(frozen=True, slots=True)
class Ident:
    """A name and email as git records them (author, committer, co-author trailer)."""

    name: str
    email: str
    time: datetime | None = None

    def __post_init__(self) -> None:
        if self.time is not None and self.time.tzinfo is None:
            raise ValueError("Ident.time must be timezone-aware")

    @property
    def alias(self) -> Alias | None:
        """The email alias, or None when git recorded no usable email."""
        email = self.email.strip()
        return Alias.email(email) if email else None


@dataclass(frozen=True, slots=True)
class CommitSignature:
    """A commit's signature as verified by the git layer (``gpg.format=ssh``)."""

    key: Alias | None  # the signing key, when it could be read
    valid: bool  # the signature verifies over the commit's exact bytes
    format: str = "ssh"


@dataclass(frozen=True, slots=True)
class Commit:
    """One commit and the facts the engine needs about it.

    ``paths`` are the paths this commit changes against its first parent. ``clean_merge`` is
    only set for merge commits: True when its tree equals the clean merge of its parents.
    ``trailers`` are the message's trailers as git parses them (``co_authors`` comes from
    them). A commit written by an AI agent names the agent as its author; the people who
    direct it are the policy's to say (a service's ``directed_by``), and the engine counts
    them among the authors (invariant 10).
    """

    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Ident
    committer: Ident
    co_authors: tuple[Ident, ...] = ()
    message: str = ""
    paths: tuple[str, ...] = ()
    signature: CommitSignature | None = None
    clean_merge: bool | None = None
    trailers: tuple[tuple[str, str], ...] = ()

    @property
    def is_merge(self) -> bool:
        """True for a commit with more than one parent."""
        return len(self.parents) > 1


class UpdateKind(enum.StrEnum):
    """How a ref moves."""

    CREATE = "create"
    FAST_FORWARD = "fast-forward"
    FORCE = "force"  # not a fast-forward: history rewritten
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Change:
    """A proposed update of a ref, ``old -> new``, with the commits it brings.

    ``commits`` are the commits reachable from ``new`` and not from ``old`` (nor from the other
    protected refs), oldest first. ``paths`` are the paths whose content differs between the old
    and the new tree. ``pusher`` is who asks for the update, when known. ``old_tree`` is the
    tree of ``old`` ("" when unknown or for a creation). ``new_type`` is the type of object
    ``new`` peels to (``git cat-file -t new^{}``): a protected ref must name a commit.
    """

    repository: str
    ref: str
    old: str
    new: str
    new_tree: str = ""
    commits: tuple[Commit, ...] = ()
    fast_forward: bool = True
    paths: tuple[str, ...] = ()
    pusher: Alias | None = None
    old_tree: str = ""
    new_type: str = "commit"

    @property
    def kind(self) -> UpdateKind:
        """Creation, fast-forward, force (rewrite) or deletion."""
        if self.new == ZERO_SHA:
            return UpdateKind.DELETE
        if self.old == ZERO_SHA:
            return UpdateKind.CREATE
        return UpdateKind.FAST_FORWARD if self.fast_forward else UpdateKind.FORCE

    @property
    def head(self) -> Commit | None:
        """The commit the ref would point at, if it is among ``commits``."""
        for commit in reversed(self.commits):
            if commit.sha == self.new:
                return commit
        return None
