"""A gated repository's own policy, per change, as its gate read it (issue 13, item 2).

The hook judges a push with ``.twokey/policy.yml`` on the repository's default branch as it is
*before* the push (``twokey.git._policy_source``). Audited without ``--policy``, such a
repository is judged the same way: each change by the version of the file that was on the
default branch at the change's time. The versions are read once, by one path-limited
``git log --first-parent`` of the default branch (a handful of commits in any history); each
change then finds its version by its committer time, the change that wrote a version being
judged by the one before it (as the gate judged it). Committer time stands in for push time,
which git does not keep; a clock far off can pick a neighbouring version.

Changes older than the first version were not gated by a policy in the repository: they are
judged by the inferred default, and the report counts them apart.
"""

from __future__ import annotations

__all__ = ["GatedPolicies", "Version"]

import bisect
from collections import Counter
from dataclasses import dataclass

from twokey.errors import ConfigError
from twokey.git import load_blob
from twokey.git._run import Git
from twokey.policy import DEFAULT_POLICY_PATH, Policy

_ZERO = "0" * 40


@dataclass(frozen=True)
class Version:
    """The policy file as one first-parent commit of the default branch left it."""

    time: int  # the commit's committer time (seconds)
    commit: str
    blob: str | None  # None: the commit deleted the file


def _versions(git: Git, default_ref: str) -> list[Version]:
    """Every first-parent commit of ``default_ref`` that changed the policy file, newest first."""
    out = git.run(
        "log",
        "--first-parent",
        "--diff-merges=first-parent",
        "--no-renames",
        "--no-abbrev",
        "--raw",
        "--format=%x01%H %ct",
        default_ref,
        "--",
        DEFAULT_POLICY_PATH,
    ).decode(errors="replace")
    found = []
    for chunk in out.split("\x01")[1:]:
        head, _, raw = chunk.partition("\n")
        sha, _, when = head.partition(" ")
        fields = raw.split()  # :mode mode old new status path
        if len(fields) >= 5 and when.isdigit():
            blob = fields[3] if fields[3].strip("0") else None
            found.append(Version(int(when), sha, blob))
    return found


class GatedPolicies:
    """The versions of a repository's policy, and which one judged each change."""

    def __init__(self, git: Git, default_ref: str, versions: list[Version]) -> None:
        self.git = git
        self.default_ref = default_ref
        self.versions = sorted(versions, key=lambda v: -v.time)  # newest first, by time
        self._times = [-v.time for v in self.versions]
        self._loaded: dict[str, Policy] = {}
        self.used: Counter[str] = Counter()  # origin -> changes judged by it ("" the default)

    @classmethod
    def find(cls, git: Git, default_ref: str) -> GatedPolicies | None:
        """The repository's policy history, or None when its default branch never had one.

        Raises:
            GitError: git failed.
        """
        if not git.ok("rev-parse", "--verify", "--quiet", f"{default_ref}^{{commit}}"):
            return None
        versions = _versions(git, default_ref)
        if not any(v.blob for v in versions):
            return None
        return cls(git, default_ref, versions)

    def at(self, commit: str, when: int) -> Policy | None:
        """The policy the gate read for the change ``commit`` committed at ``when``.

        The newest version written at or before ``when`` by another commit (the commit that
        writes a version is judged by the one before it). None when there was none then.

        Raises:
            ConfigError: that version is invalid or leaves the default branch unprotected
                (the gate denied every push then; the audit cannot judge with it).
        """
        index = bisect.bisect_left(self._times, -when)
        while index < len(self.versions) and self.versions[index].commit == commit:
            index += 1
        version = self.versions[index] if index < len(self.versions) else None
        if version is None or version.blob is None:
            self.used[""] += 1
            return None
        policy = self._load(version)
        self.used[policy.source] += 1
        return policy

    def _load(self, version: Version) -> Policy:
        assert version.blob is not None
        policy = self._loaded.get(version.blob)
        if policy is None:
            origin = f"{self.default_ref}:{DEFAULT_POLICY_PATH}@{version.commit[:12]}"
            data = self.git.run("cat-file", "blob", version.blob)
            policy = load_blob(self.git.git_dir, version.blob, data, origin)
            if policy.ref_rule(self.default_ref) is None:
                raise ConfigError(
                    f"the policy at {origin} does not protect {self.default_ref}: the gate "
                    "denied every push while it was in force",
                    hint="audit with --policy FILE to judge that period with another policy",
                )
            self._loaded[version.blob] = policy
        return policy

    def latest(self) -> Policy | None:
        """The newest version (its keys verify the evidence refs and the ledger)."""
        for version in self.versions:
            return self._load(version) if version.blob else None
        return None

    def describe(self) -> str:
        """For the report: which versions judged how many changes."""
        parts = [f"{origin}: {n} change(s)" for origin, n in sorted(self.used.items()) if origin]
        text = (
            f"the repository's own policy, as its gate read it: {self.default_ref}:"
            f"{DEFAULT_POLICY_PATH} on the default branch at each change's time "
            f"({'; '.join(parts) or 'no change judged'})"
        )
        if self.used[""]:
            text += (
                f"; {self.used['']} change(s) from before the repository had a policy: the "
                "inferred default (one approval by someone other than the authors, "
                "co-authors and committers; people inferred from the history's emails)"
            )
        return text
