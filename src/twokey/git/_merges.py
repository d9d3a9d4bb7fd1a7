"""The commits of a run of landed merges in one git process, not one per merge (issue 13).

The gate reads a pushed merge with ``git log merge ^first-parent`` and one ``git merge-tree
--write-tree`` per merge commit it brings (``GitReader.commits``). The audit of a merge-heavy
history (GitHub's merge-commit flow: every change a merge) made those two processes per change
its whole cost: 1,021 merges of pallets/flask took 8.7 s where ``git log`` takes 0.05 s.

For a run of consecutive first-parent commits ``F_lo .. F_hi`` the audit asks git once for
``F_hi ^F_lo^1``: exactly the commits the run's changes bring. Each commit belongs to the
oldest ``F_k`` that reaches it, because ``reach(F_k) = reach(F_k^1) + F_k + what F_k's other
parents reach outside reach(F_k^1)``; walking the run oldest first and collecting from each
merge's other parents what is not yet taken gives each merge ``merge ^first-parent`` exactly.
git prints a range oldest first in its topological order; the order is taken from here only
when it is forced (every commit a parent of the next: the usual branch), else the merge is
left to the gate's own read, so the lists are the gate's, order included.

A merge is clean (``Commit.clean_merge``) when its tree is the clean merge of its two parents:
the gate's own check, ``git merge-tree --write-tree``, for every merge of the run in one
``git merge-tree --stdin`` (``GitReader.merge_trees``; git 2.39 has it: the same ``real_merge``
per input line, in one process). ``git log --remerge-diff`` of many merges in one process was
tried and rejected: with git 2.39 its verdict for a merge depends on which merges the same
process re-merged before it (pallets/flask: 5 of 1,725 merges reported unclean in a run, clean
alone and by merge-tree), so it cannot stand in for the gate; ``merge-tree --stdin`` gives
every merge of pallets/flask and psf/requests exactly the lone merge-tree's tree and verdict,
in history order and shuffled (ADR 0030), and is property-tested against it.
"""

from __future__ import annotations

__all__ = ["MergeRuns"]

from collections.abc import Sequence
from dataclasses import replace

from twokey.git._commits import LOG_ARGS, parse_log
from twokey.git._order import forced_order
from twokey.git._reader import GitReader
from twokey.model import Commit

# One first-parent commit of the audited history: its id and its parents' ids.
Link = tuple[str, tuple[str, ...]]


class MergeRuns:
    """Reads the merges of runs of first-parent history, as the gate would read each one.

    Thread-safe: it keeps no state of its own (the reader's merge-tree cache is a dict).
    """

    def __init__(self, reader: GitReader, ref: str) -> None:
        self.reader = reader
        self.ref = ref

    def read(self, run: Sequence[Link]) -> dict[str, list[Commit]]:
        """For each merge of ``run`` (newest first), what ``brought_commits`` gives for it,
        but for ``clean_merge`` (see :meth:`judged`).

        ``run``: consecutive first-parent commits, each one's first parent the next one. A
        merge whose commits have more than one possible order is missing from the answer (the
        caller reads it the gate's way: its merges' merge-trees are then in the reader's
        cache, read with the run's), and so is every merge of a run that is not consecutive.
        """
        merges = [i for i, (_, parents) in enumerate(run) if len(parents) > 1]
        if not merges:
            return {}
        hi, lo = merges[0], merges[-1]
        chain = run[hi : lo + 1]
        if any(chain[i][1][0] != chain[i + 1][0] for i in range(len(chain) - 1)):
            return {}
        stdin = f"{chain[0][0]}\n^{chain[-1][1][0]}\n".encode()
        commits = {c.sha: c for c in parse_log(self.reader.git.call(LOG_ARGS, stdin=stdin).out)}
        self.reader.know_trees((sha, c.tree) for sha, c in commits.items())
        found = {}
        merges_of = []  # every merge the run brings, also those the gate's read will order
        for merge, brought in _partition(chain, commits):
            merges_of += [commits[s] for s in (*brought, merge) if commits[s].is_merge]
            ordered = forced_order(brought, commits)
            if ordered is not None:
                found[merge] = [*ordered, commits[merge]]
        judged = {c.sha: c for c in self.reader.clean_merges(merges_of)}  # cached by the reader
        return {m: [judged.get(c.sha, c) for c in cs] for m, cs in found.items()}

    def judged(self, commits: list[Commit]) -> list[Commit]:
        """``commits`` with each merge's ``clean_merge`` set by the gate's own merge-tree
        (:meth:`read` set it already for the merges it answers for)."""
        return [
            replace(c, clean_merge=self.reader.clean_merge(c))
            if c.is_merge and c.clean_merge is None
            else c
            for c in commits
        ]


def _partition(chain: Sequence[Link], commits: dict[str, Commit]) -> list[tuple[str, set[str]]]:
    """Each merge of ``chain`` (newest first) and the commits it brings but itself."""
    taken: set[str] = set()
    found = []
    for sha, parents in reversed(chain):  # oldest first: what an older one took is not new
        if len(parents) > 1:
            brought: set[str] = set()
            stack = list(parents[1:])
            while stack:
                one = stack.pop()
                if one in taken or one not in commits:
                    continue  # reached from the first parent already, or before the range
                taken.add(one)
                brought.add(one)
                stack.extend(commits[one].parents)
            found.append((sha, brought))
        taken.add(sha)
    return found
