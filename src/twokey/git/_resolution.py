"""What a merger wrote themselves: a merge's tree against git's own merge of its parents.

A merge that is not the clean merge of its parents (``UNCLEAN_MERGE``) carries content of the
person who merged. How much matters to a reader: resolving a conflict in two lines is routine,
a hundred lines in files that had no conflict is an "evil merge". git's own merge of the two
parents (``git merge-tree --write-tree``, conflict markers and all) is what the merger started
from; the merge's tree against it is the merger's own content, measured here.
"""

from __future__ import annotations

__all__ = ["MergeResolution", "merge_resolution", "merge_resolutions", "plain_diff_config"]

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from twokey._gitrunner import GitRunner
from twokey.model import Commit

# Settings `git diff` reads and `git diff-tree` does not (git_diff_ui_config) that could change
# `--numstat -z --no-renames` of two trees: the line counts (algorithm), the order (orderFile),
# which entries (ignoreSubmodules, relative) and external diff drivers. The other UI settings
# shape patches and colours only.
_UI_DIFF_KEYS = r"^diff\.(algorithm|orderfile|ignoresubmodules|relative|external)$"
_NUMSTAT = re.compile(rb"(\d+|-)\t(\d+|-)\t(.*)", re.DOTALL)
AutoMerge = tuple[str, tuple[str, ...]]  # git's merge of two commits: tree, conflicted paths


@dataclass(frozen=True, slots=True)
class MergeResolution:
    """A merger's own content in one merge.

    Attributes:
        commit: the merge commit.
        conflicted: paths git could not merge by itself (the merger had to resolve them).
        files: paths whose content differs from git's own merge of the parents.
        added: lines added relative to git's own merge (conflict markers count as removed).
        removed: lines removed relative to git's own merge.
        measured: False for an octopus merge or unrelated parents: git merges two related
            commits, so nothing is measured (and the merge stays unclean).
    """

    commit: str
    conflicted: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    added: int = 0
    removed: int = 0
    measured: bool = True

    @property
    def lines(self) -> int:
        """Lines the merger added or removed."""
        return self.added + self.removed

    @property
    def outside(self) -> tuple[str, ...]:
        """Paths changed that had no conflict: content beyond any resolution."""
        conflicted = set(self.conflicted)
        return tuple(p for p in self.files if p not in conflicted)

    def describe(self) -> str:
        """``resolution in 1a2b3c4: 4 lines (+1 -3) in 1 file (1 conflicted), 0 outside``."""
        head = f"merger's own content in {self.commit[:7]}"
        if not self.measured:
            return f"{head}: not measured (git merges two related commits; this merge is not)"
        outside = self.outside
        text = (
            f"{head}: {self.lines} line(s) (+{self.added} -{self.removed}) in "
            f"{len(self.files)} file(s); {len(self.conflicted)} conflicted file(s) resolved"
        )
        if outside:
            shown = ", ".join(outside[:3]) + (", ..." if len(outside) > 3 else "")
            return f"{text}; {len(outside)} file(s) changed outside any conflict: {shown}"
        return f"{text}; nothing outside the conflicts"

    def to_dict(self) -> dict[str, Any]:
        """JSON form (docs/audit-json.md, ``resolutions``)."""
        return {
            "commit": self.commit,
            "measured": self.measured,
            "conflicted": list(self.conflicted),
            "files": list(self.files),
            "outside_conflicts": list(self.outside),
            "added": self.added,
            "removed": self.removed,
            "lines": self.lines,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MergeResolution:
        """Inverse of :meth:`to_dict`."""
        return cls(
            data["commit"],
            tuple(data["conflicted"]),
            tuple(data["files"]),
            data["added"],
            data["removed"],
            data["measured"],
        )


def _auto_merge(git: GitRunner, ours: str, theirs: str) -> tuple[str, tuple[str, ...]] | None:
    """git's own merge of two commits: its tree (with conflict markers) and conflicted paths."""
    result = git.call(
        ["merge-tree", "--write-tree", "--name-only", "--no-messages", "-z", ours, theirs],
        ok=range(-256, 256),
    )
    if result.code not in (0, 1):
        return None  # e.g. unrelated histories: there is no merge of git's own to compare with
    tree, *paths = result.out.decode("utf-8", errors="surrogateescape").split("\0")
    conflicted = paths[: paths.index("")] if "" in paths else paths
    return tree, tuple(dict.fromkeys(conflicted))


def plain_diff_config(git: GitRunner) -> bool:
    """True when none of the settings by which ``git diff --numstat`` could differ from
    ``git diff-tree --numstat`` is set (then :func:`merge_resolutions` may batch)."""
    found = git.call(["config", "--get-regexp", _UI_DIFF_KEYS], ok=range(-256, 256))
    return found.code == 1 and not found.out  # 1: no such key


def merge_resolutions(
    git: GitRunner, merges: Sequence[tuple[Commit, AutoMerge]]
) -> dict[str, MergeResolution]:
    """:func:`merge_resolution` of each merge (with git's merge of its parents, read already),
    the ``git diff --numstat`` of all of them as one ``git diff-tree --stdin`` (only where
    :func:`plain_diff_config`: then both print the same).

    ``diff-tree --stdin`` prints, per line ``<tree> <tree>``, that line, then the entries
    (``<added> TAB <removed> TAB <path> NUL``). The answer stops at the first merge whose
    output is not exactly that (a tree git could not read): the rest are left to the caller.
    """
    stdin = "".join(f"{tree} {merge.tree}\n" for merge, (tree, _) in merges).encode()
    args = ["diff-tree", "--stdin", "-r", "--numstat", "-z", "--no-renames"]
    data = git.call(args, stdin=stdin, ok=range(-256, 256)).out
    headers = [f"{tree} {merge.tree}\n".encode() for merge, (tree, _) in merges]
    found: dict[str, MergeResolution] = {}
    at = 0
    for n, (merge, (_, conflicted)) in enumerate(merges):
        if not data.startswith(headers[n], at):
            break
        at += len(headers[n])
        following = headers[n + 1] if n + 1 < len(headers) else None
        entries = []
        while at < len(data) and not (following and data.startswith(following, at)):
            end = data.find(b"\0", at)
            entry = _NUMSTAT.fullmatch(data, at, end) if end >= 0 else None
            if entry is None:
                return found  # not what diff-tree prints
            entries.append((entry[1], entry[2], entry[3]))
            at = end + 1
        found[merge.sha] = _measured(merge, conflicted, entries)
    return found


def _measured(
    merge: Commit, conflicted: tuple[str, ...], entries: Sequence[tuple[bytes, bytes, bytes]]
) -> MergeResolution:
    files, added, removed = [], 0, 0
    for plus, minus, path in entries:
        files.append(path.decode("utf-8", errors="surrogateescape"))
        added += int(plus) if plus.isdigit() else 0  # "-" for a binary file
        removed += int(minus) if minus.isdigit() else 0
    return MergeResolution(merge.sha, conflicted, tuple(files), added, removed)


def merge_resolution(
    git: GitRunner, merge: Commit, auto: tuple[str, tuple[str, ...]] | None = None
) -> MergeResolution:
    """The merger's own content in ``merge``: its tree against git's merge of its parents.

    ``auto``: git's merge of the parents already read (``GitReader.auto_merge``: the same
    ``git merge-tree`` output, read with the merges of a run), else it is read here.
    """
    found = auto
    if found is None and len(merge.parents) == 2:
        found = _auto_merge(git, *merge.parents)
    if found is None:
        return MergeResolution(merge.sha, measured=False)
    tree, conflicted = found
    out = git.run("diff", "--numstat", "-z", "--no-renames", tree, merge.tree, "--")
    files, added, removed = [], 0, 0
    for entry in out.decode("utf-8", errors="surrogateescape").split("\0"):
        if not entry:
            continue
        plus, minus, path = entry.split("\t", 2)
        files.append(path)
        added += int(plus) if plus.isdigit() else 0  # "-" for a binary file
        removed += int(minus) if minus.isdigit() else 0
    return MergeResolution(merge.sha, conflicted, tuple(files), added, removed)
