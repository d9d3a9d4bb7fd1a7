"""The order git lists commits in, where only one order is possible (no process needed).

``git log --topo-order --reverse`` lists a range parents first. When the commits of a range
admit exactly one such order (each commit a parent of the next: the usual branch), that order
is git's; otherwise git's own choice decides and git is asked (``twokey.git._merges``,
``GitReader.landings``).
"""

from __future__ import annotations

__all__ = ["forced_order", "reachable_within"]

from collections.abc import Mapping, Sequence
from dataclasses import replace

from twokey.model import Commit


def forced_order(brought: set[str], commits: Mapping[str, Commit]) -> list[Commit] | None:
    """``brought`` oldest first when only one order puts parents first, else None."""
    waiting = {s: sum(p in brought for p in commits[s].parents) for s in brought}
    children: dict[str, list[str]] = {}
    for sha in brought:
        for parent in commits[sha].parents:
            if parent in brought:
                children.setdefault(parent, []).append(sha)
    ready = [s for s, n in waiting.items() if n == 0]
    order = []
    while ready:
        if len(ready) > 1:
            return None  # two commits could come next: git's order is its own
        sha = ready.pop()
        order.append(commits[sha])
        for child in children.get(sha, ()):
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    return order


def reachable_within(head: str, commits: Sequence[Commit]) -> list[Commit] | None:
    """``GitReader.commits(head, [old], merges=False)``, read from ``commits`` when they are
    exactly the commits of ``new ^old`` (oldest first) and ``head`` is one of them.

    Then ``head ^old`` is ``head`` and its ancestors among ``commits``: what ``new ^old``
    holds of reach(head) is reach(head) but reach(old). Given as git reads it with
    ``merges=False``: no ``clean_merge``, no ``signature``. None when ``head`` is not among
    ``commits`` or its commits have more than one order (then git is asked).
    """
    by_sha = {c.sha: c for c in commits}
    if head not in by_sha:
        return None
    reach: set[str] = set()
    stack = [head]
    while stack:
        sha = stack.pop()
        if sha in reach or sha not in by_sha:
            continue
        reach.add(sha)
        stack.extend(by_sha[sha].parents)
    order = forced_order(reach, by_sha)
    if order is None:
        return None
    return [replace(c, clean_merge=None, signature=None) for c in order]
