"""A gated repository's own policy, per change, as its gate read it (issue 13, item 2).

The hook judges a push with ``.twokey/policy.yml`` on the repository's default branch as it is
*before* the push (``twokey.git._policy_source``). Audited without ``--policy``, such a
repository is judged the same way: each change by the version of the file that was on the
default branch before it. The versions are read once, by one path-limited
``git log --first-parent`` of the default branch (a handful of commits in any history).

On the default branch itself the order is the branch's own: a change is judged by the newest
version *below it* on the first-parent chain (the change that wrote a version by the one
before), followed as the walk goes down the chain, never by dates: a committer date is text
the pusher wrote, and a backdated commit must not choose an older, looser version. For another
ref only time relates its changes to the default branch: a change is judged by the newest
version committed at or before its committer time, which is a claim (docs/audit.md says so).

Changes older than the first version were not gated by a policy in the repository: they are
judged by the inferred default, and the report counts them apart.
"""

from __future__ import annotations

__all__ = ["GatedPolicies", "Version", "policy_versions"]

import bisect
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass

from twokey.errors import ConfigError
from twokey.git import GitRunner as Git
from twokey.policy import DEFAULT_POLICY_PATH, Policy, loads

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


def policy_versions(git: Git, default_ref: str) -> list[Version] | None:
    """:func:`_versions`, or None when ``default_ref`` does not exist or never had the file.

    Raises:
        GitError: git failed.
    """
    if not git.ok("rev-parse", "--verify", "--quiet", f"{default_ref}^{{commit}}"):
        return None
    versions = _versions(git, default_ref)
    return versions if any(v.blob for v in versions) else None


class GatedPolicies:
    """The versions of a repository's policy, and which one judged each change."""

    def __init__(
        self, git: Git, default_ref: str, versions: list[Version], on_default: bool = True
    ) -> None:
        self.git = git
        self.default_ref = default_ref
        self.chain = versions  # newest first, in first-parent order
        self.on_default = on_default  # the audited ref is the default branch: chain order
        self._k = 0  # chain[_k]: the newest version below the change being judged
        self._next: str | None = None  # the commit expected next (the last one's parent)
        self.versions = sorted(versions, key=lambda v: -v.time)  # newest first, by time
        self._times = [-v.time for v in self.versions]
        self._loaded: dict[str, Policy] = {}
        self.used: Counter[str] = Counter()  # origin -> changes judged by it ("" the default)

    @classmethod
    def find(
        cls,
        git: Git,
        default_ref: str,
        audited_ref: str,
        versions: Future[list[Version] | None] | None = None,
    ) -> GatedPolicies | None:
        """The repository's policy history, or None when its default branch never had one.

        ``versions``: :func:`policy_versions` of ``git`` and ``default_ref``, begun earlier
        (``twokey.audit._early``); None reads them now.

        Raises:
            GitError: git failed.
        """
        found = versions.result() if versions is not None else policy_versions(git, default_ref)
        if found is None:
            return None
        return cls(git, default_ref, found, audited_ref == default_ref)

    def at(self, commit: str, parent: str, when: int) -> Policy | None:
        """The policy the gate read for the change ``commit`` (first parent ``parent``,
        committed at ``when``); None when there was none then.

        Raises:
            ConfigError: that version is invalid or leaves the default branch unprotected
                (the gate denied every push then; the audit cannot judge with it).
        """
        version = self._below(commit, parent) if self.on_default else self._before(commit, when)
        if version is None or version.blob is None:
            self.used[""] += 1
            return None
        policy = self._load(version)
        self.used[policy.source] += 1
        return policy

    def _below(self, commit: str, parent: str) -> Version | None:
        """The newest version below ``commit`` on the default branch's first-parent chain."""
        if commit != self._next:  # the first change, or a gap in the walk: find the place
            self._k = next(
                (k for k, v in enumerate(self.chain) if self._under(v.commit, commit)),
                len(self.chain),
            )
        self._next = parent
        if self._k < len(self.chain) and self.chain[self._k].commit == commit:
            self._k += 1  # the change that wrote a version is judged by the one before
        return self.chain[self._k] if self._k < len(self.chain) else None

    def _under(self, version: str, commit: str) -> bool:
        return version == commit or self.git.ok("merge-base", "--is-ancestor", version, commit)

    def _before(self, commit: str, when: int) -> Version | None:
        """The newest version committed at or before ``when`` by another commit."""
        index = bisect.bisect_left(self._times, -when)
        while index < len(self.versions) and self.versions[index].commit == commit:
            index += 1
        return self.versions[index] if index < len(self.versions) else None

    def _load(self, version: Version) -> Policy:
        assert version.blob is not None
        policy = self._loaded.get(version.blob)
        if policy is None:
            origin = f"{self.default_ref}:{DEFAULT_POLICY_PATH}@{version.commit[:12]}"
            data = self.git.run("cat-file", "blob", version.blob)
            policy = loads(data, origin)
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
        for version in self.chain:
            return self._load(version) if version.blob else None
        return None

    def describe(self) -> str:
        """For the report: which versions judged how many changes."""
        parts = [f"{origin}: {n} change(s)" for origin, n in sorted(self.used.items()) if origin]
        text = (
            f"the repository's own policy, as its gate read it: {self.default_ref}:"
            f"{DEFAULT_POLICY_PATH} on the default branch "
            f"{'before each change' if self.on_default else 'at each change time'} "
            f"({'; '.join(parts) or 'no change judged'})"
        )
        if self.used[""]:
            text += (
                f"; {self.used['']} change(s) from before the repository had a policy: the "
                "inferred default (one approval by someone other than the authors, "
                "co-authors and committers; people inferred from the history's emails)"
            )
        return text
