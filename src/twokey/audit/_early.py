"""The audit's start: its first git reads begun before the walk's modules are imported.

Before the walk judges its first change, the audit reads two things from git, one after the
other, and imports the walk (the engine, the policy model, the evidence and ledger readers:
~0.1-0.2 s of a run that the Python trailer floor does not have): the versions of the
repository's own policy file (one path-limited ``git log``, ``twokey.audit._gated``) and the
people of the audited range (one ``git log`` of identities, ``twokey.audit._identities``). On a
Gerrit history of 10,703 changes each read is ~0.2 s of git, and the process waited for both.

Now :func:`run_audit` starts both reads in threads first (git runs on another core; the
threads wait on its pipe without the GIL), then imports the walk, which takes their answers
where it asked for them before (:class:`StartReads`). The reads are the same functions with
the same arguments; only their start is earlier, and an error is raised where the walk asks
for the answer, as before. Nothing is read that the walk would not read: the versions and the
people are read only without ``--policy`` (with it the walk reads neither), and the people only
as the inferred default's seed (a repository with its own policy may never need them: the
read is then wasted on the other core, never waited for).
"""

from __future__ import annotations

__all__ = ["EARLY_COMMITS", "FIRST_RUN", "RUN_MERGES", "RunRead", "StartReads", "run_audit"]

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from twokey.audit._gated import Version, policy_versions
from twokey.audit._identities import history_idents
from twokey.audit._options import AuditOptions
from twokey.errors import UsageError
from twokey.git import GitReader, MergeRuns
from twokey.git import GitRunner as Git

if TYPE_CHECKING:
    from twokey.audit._report import AuditReport
    from twokey.model import Commit

RUN_MERGES = 64  # merges of one batch whose commits one git log reads (twokey.git._merges)
FIRST_RUN = 8  # the walk's first run: read first, so the walk starts sooner
EARLY_COMMITS = 256  # first-parent commits whose merges are read during the imports
EARLY_WORKERS = 4  # their runs read at once (git processes: they wait on each other's start)
RunRead = dict[str, list["Commit"]]


class StartReads:
    """The walk's start-up reads of ``git`` for ``options``, begun now in threads.

    ``versions`` (``policy_versions`` of the default branch) and ``idents``
    (``history_idents`` of the audited range) are None with ``--policy``: the walk reads
    neither then.
    """

    def __init__(self, git: Git, options: AuditOptions) -> None:
        self.versions: Future[list[Version] | None] | None = None
        self.idents: Future[set[tuple[str, str]]] | None = None
        # The walk's reader (merge-trees cached in it). The audit reads the repository its
        # auditor names, commit-graph included (a large merge-heavy history: docs/audit.md).
        self.reader = GitReader(git.git_dir, git.env, commit_graph=True)
        ref = options.full_ref
        self._runs_pool = ThreadPoolExecutor(EARLY_WORKERS, thread_name_prefix="twokey-early")
        pool = ThreadPoolExecutor(3, thread_name_prefix="twokey-start")
        try:
            self._runs = pool.submit(self._begin_runs, git, options)
            if options.policy is None:
                self.versions = pool.submit(policy_versions, git, options.default_ref or ref)
                self.idents = pool.submit(history_idents, git, ref, options.since, options.until)
        finally:
            pool.shutdown(wait=False)  # the threads end with their read

    def _begin_runs(self, git: Git, options: AuditOptions) -> dict[str, Future[RunRead]]:
        """The runs of merges among the newest ``EARLY_COMMITS`` first-parent commits, begun
        as the walk begins its own (``twokey.audit._run._runs``): ``FIRST_RUN`` merges first,
        then ``RUN_MERGES`` a run; merge id -> the read of its run (``MergeRuns.read``)."""
        args = ["log", "--first-parent", "--no-color", "--format=%H %P"]
        args += [f"--since={options.since}"] if options.since else []
        args += [f"--until={options.until}"] if options.until else []
        out = git.run(*args, f"--max-count={EARLY_COMMITS}", options.full_ref, "--")
        links = [(line[0], tuple(line[1:])) for line in map(str.split, out.decode().splitlines())]
        at = [i for i, (_, parents) in enumerate(links) if len(parents) > 1]
        merges = MergeRuns(self.reader, options.full_ref)
        found: dict[str, Future[RunRead]] = {}
        start = 0
        try:
            while start < len(at):
                group = at[start : start + (FIRST_RUN if start == 0 else RUN_MERGES)]
                run = links[group[0] : group[-1] + 1]
                future = self._runs_pool.submit(merges.read, run)
                found.update((links[i][0], future) for i in group)
                start += len(group)
        finally:
            self._runs_pool.shutdown(wait=False)  # its threads end with the runs submitted
        return found

    def runs(self) -> dict[str, Future[RunRead]]:
        """Merge id -> the read of its run (not yet measured: ``Walk.measure``), for the
        merges of the newest first-parent commits; empty when that listing failed (the walk
        then reads them itself, and meets the failure in its own read of the history)."""
        try:
            return self._runs.result()
        except Exception:
            return {}


def start(options: AuditOptions) -> tuple[Git, StartReads]:
    """The repository of ``options`` and its start-up reads, begun.

    Raises:
        UsageError: the ref does not exist.
        InfrastructureError: git failed.
    """
    git = Git.discover(options.repo)
    ref = options.full_ref
    if not git.ok("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"):
        raise UsageError(f"{ref} does not exist in {options.repo}", hint="pass --ref REF")
    return git, StartReads(git, options)


def run_audit(
    options: AuditOptions,
    *,
    progress: Callable[[int], None] | None = None,
    memo: bool = True,
) -> AuditReport:
    """Judge every change that landed on ``options.ref`` in the period
    (``twokey.audit._run.walk_audit``), its start-up reads begun before the walk is imported.

    ``memo=False`` sends every change to the engine and writes every row the slow way
    (``twokey.audit._fast`` explains the fast lane; the tests compare).

    Raises:
        UsageError: the ref does not exist.
        ConfigError: the policy file is invalid.
        InfrastructureError: git or the ledger failed.
    """
    git, reads = start(options)
    from twokey.audit._run import walk_audit  # noqa: PLC0415 - after the reads are begun

    return walk_audit(git, options, reads, progress=progress, memo=memo)
