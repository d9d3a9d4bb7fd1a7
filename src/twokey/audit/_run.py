"""Walking history: every landed change judged with the gate's own engine, in order.

One streaming ``git log`` gives the first-parent history; simple changes go through the fast
lane (``twokey.audit._fast``), the rest through :class:`twokey.audit._walk.Walk`, with merges
and recorded pushes read ahead in threads. Rows are spooled and totals kept on the way, so
memory does not grow with the length of history.
"""

from __future__ import annotations

__all__ = ["Progress", "run_audit", "walk_audit"]

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from twokey.audit._changes import counts_applied
from twokey.audit._early import FIRST_RUN, RUN_MERGES, RunRead, StartReads, run_audit
from twokey.audit._exceptions import landed_in_history
from twokey.audit._fast import FastLane
from twokey.audit._options import AuditOptions
from twokey.audit._report import AuditReport, Spool, dict_lines
from twokey.audit._signals import risk_signals
from twokey.audit._sources import LedgerRecords
from twokey.audit._walk import Brought, Walk
from twokey.evidence import repository_id
from twokey.git import GitRunner as Git
from twokey.git import MergeRuns, Record, brought_commits, commit_of, first_parent_batches
from twokey.model import Commit

Progress = Callable[[int], None]
PROGRESS_EVERY = 1000
PREFETCH = 64  # commits read ahead of the one being judged
WORKERS = 4  # concurrent git processes for merges (they mostly wait on process start-up)
Ready = tuple[Record, "Future[Brought] | None"]
Runs = dict[str, "Future[RunRead]"]


def _pushed(walk: Walk, record: Record, old: str) -> Brought:
    """The gate's own reading of the recorded update ``old -> record``."""
    return walk.reader.change(walk.ref, old, record[0][0][1:], repository=walk.repository)


def _merged(walk: Walk, record: Record, run: Future[dict[str, list[Commit]]] | None) -> Brought:
    """The commits a merge brings, as the gate reads them: from its run's read when it has
    them, else the gate's own read of this merge (and, read ahead as well, the merger's own
    content in a merge that is not clean)."""
    found = run.result().get(record[0][0][1:]) if run is not None else None
    if found is None:
        brought = brought_commits(walk.reader, commit_of(record))
    else:
        brought = MergeRuns(walk.reader, walk.ref).judged(found)
    walk.measure(brought)
    return brought


def _runs(
    walk: Walk,
    merges: MergeRuns,
    batch: list[Record],
    pool: ThreadPoolExecutor,
    *,
    first: bool,
    early: Runs,
) -> Runs:
    """The merges of ``batch``, up to ``RUN_MERGES`` a run, each run read in the pool. The
    ``first`` batch of the walk starts with a run of ``FIRST_RUN`` merges: the walk waits for
    its first merge, and a short run is read sooner (the others are read meanwhile). Merges
    whose runs were begun before the walk (``early``, ``twokey.audit._early``) take those
    (and leave ``early``)."""
    links = [(r[0][0][1:], tuple(r[0][2].split())) for r in batch]
    found: Runs = {sha: early.pop(sha) for sha, _ in links if sha in early}
    at = [i for i, (sha, parents) in enumerate(links) if len(parents) > 1 and sha not in found]
    start = 0
    while start < len(at):
        size = FIRST_RUN if first and start == 0 else RUN_MERGES
        group = at[start : start + size]
        future = pool.submit(_read_run, walk, merges, links[group[0] : group[-1] + 1])
        found.update((links[i][0], future) for i in group)
        start += size
    return found


def _read_run(walk: Walk, merges: MergeRuns, run: list[tuple[str, tuple[str, ...]]]) -> RunRead:
    """A run's merges read (``MergeRuns.read``), and those not clean measured all at once."""
    found = merges.read(run)
    walk.measure([c for commits in found.values() for c in commits])
    return found


def _measured(walk: Walk, read: Future[RunRead]) -> RunRead:
    """A run begun before the walk (``twokey.audit._early``), measured as :func:`_read_run`
    measures its own."""
    found = read.result()
    walk.measure([c for commits in found.values() for c in commits])
    return found


def _early_runs(walk: Walk, reads: StartReads | None, pool: ThreadPoolExecutor) -> Runs:
    """The runs begun before the walk, each measured in ``pool`` once it is read."""
    if reads is None:
        return {}
    begun = reads.runs()
    measured = {id(f): pool.submit(_measured, walk, f) for f in dict.fromkeys(begun.values())}
    return {sha: measured[id(f)] for sha, f in begun.items()}


class _Prefetch:
    """Merges and recorded pushes, read ahead in threads; rows kept in order.

    A merge costs two git processes (the gate's own reads: the commits, then the clean-merge
    check), a recorded push of several commits three (commits, ancestry, paths); run one
    after the other they dominate such a history, so up to ``PREFETCH`` of them ahead are
    read concurrently. The window bounds memory; without them nothing waits in it.
    """

    def __init__(self, walk: Walk, pool: ThreadPoolExecutor) -> None:
        self.walk = walk
        self.pool = pool
        self.window: deque[Ready] = deque()
        self.runs: Runs = {}  # merge id -> the read of its run (set per batch)

    def add(self, record: Record, old: str | None = None) -> Iterator[Ready]:
        """Queue ``record`` (``old``: a recorded push's base); yield what is ready, in order."""
        if old is not None:
            self.window.append((record, self.pool.submit(_pushed, self.walk, record, old)))
        elif " " in record[0][2]:  # parents: a merge
            run = self.runs.get(record[0][0][1:])
            self.window.append((record, self.pool.submit(_merged, self.walk, record, run)))
        elif self.window:
            self.window.append((record, None))
        else:
            yield record, None  # nothing read ahead: no need to queue
            return
        if len(self.window) > PREFETCH:
            yield self.window.popleft()

    def rest(self) -> Iterator[Ready]:
        """What is left in the window, in order."""
        while self.window:
            yield self.window.popleft()


def walk_audit(
    git: Git,
    options: AuditOptions,
    reads: StartReads | None = None,
    *,
    progress: Progress | None = None,
    memo: bool = True,
) -> AuditReport:
    """Judge every change that landed on ``options.ref`` in the period, in ``git`` (whose
    ref ``run_audit`` checked), with the start-up ``reads`` begun (None: read them here).

    Raises:
        ConfigError: the policy file is invalid.
        InfrastructureError: git or the ledger failed.
    """
    ref = options.full_ref
    walk = Walk(git, options, repository_id(git.git_dir), reads)
    lane = (
        FastLane(
            walk.special(),
            walk.policy,
            walk.totals,
            walk.stats,
            walk.repository,
            ref,
            walk.learn_commit,
        )
        if memo
        else None
    )
    spool = Spool()
    try:
        _walk_history(walk, lane, spool, progress, reads)
    except BaseException:
        spool.close()
        raise
    report = AuditReport(
        walk.repository,
        ref,
        options.since,
        options.until,
        spool,
        walk.totals,
        _sources(walk),
        _policy_info(walk),
    )
    report.path = str(options.repo.resolve())
    report.signals = risk_signals(walk.stats, walk.idents)
    report.fast_rows = lane.hits if lane is not None else 0
    report.recast_shapes = lane.recast if lane is not None else 0
    if walk.ledger is not None:
        trusted = walk.trusted if walk.gated is not None else walk.policy  # the default grows
        found = landed_in_history(walk.git, walk.ref, walk.ledger.glass.resolve(trusted))
        report.exceptions = [e.to_dict(walk.name_of(e.actor)) for e in found]
    return report


def _walk_history(
    walk: Walk,
    lane: FastLane | None,
    spool: Spool,
    progress: Progress | None,
    begun: StartReads | None = None,
) -> None:
    options = walk.options
    batches = first_parent_batches(
        walk.git,
        walk.ref,
        since=options.since,
        until=options.until,
        paths=walk.reads_paths,
    )
    done = 0
    with (
        ThreadPoolExecutor(WORKERS, thread_name_prefix="twokey-audit") as pool,
        ThreadPoolExecutor(WORKERS, thread_name_prefix="twokey-runs") as reads,
    ):  # runs of merges in their own pool: a merge's task never queues behind them
        ahead = _Prefetch(walk, pool)
        waiting, covered = ahead.window, walk.covered
        recorded = walk.ledger.decisions if walk.ledger is not None else {}
        merges = MergeRuns(walk.reader, walk.ref)
        early = _early_runs(walk, begun, reads)  # bounded: the newest EARLY_COMMITS' merges
        started = False  # a run of merges was asked for
        for batch in batches:  # the hot loop: one batch per chunk of git's output
            if ahead.runs or any(" " in record[0][2] for record in batch):
                ahead.runs = _runs(walk, merges, batch, reads, first=not started, early=early)
                started = True
            for record in batch:
                head = record[0][0]
                if covered and head[1:] in covered:
                    covered.discard(head[1:])  # inside a recorded push: judged with it
                    continue
                old = walk.recorded_push(record) if head[1:] in recorded else None
                if waiting or old is not None or " " in record[0][2]:
                    for ready, brought in ahead.add(record, old):
                        _one(walk, lane, spool, ready, brought)
                else:
                    walk.use(record)
                    if lane is None or not lane.write(record, walk.epoch, walk.policy, spool):
                        _judge(walk, lane, spool, record, None)
            before, done = done, done + len(batch)
            if progress is not None and done // PROGRESS_EVERY > before // PROGRESS_EVERY:
                progress(done)
        for ready, brought in ahead.rest():
            _one(walk, lane, spool, ready, brought)
    if lane is not None:
        lane.flush()


def _one(
    walk: Walk,
    lane: FastLane | None,
    spool: Spool,
    record: Record,
    brought: Future[Brought] | None,
) -> None:
    """Judge one change: from its shape's template when there is one, else the slow way."""
    walk.use(record)
    if brought is None and lane is not None and lane.write(record, walk.epoch, walk.policy, spool):
        return
    _judge(walk, lane, spool, record, brought)


def _judge(
    walk: Walk,
    lane: FastLane | None,
    spool: Spool,
    record: Record,
    brought: Future[Brought] | None,
) -> None:
    """The slow way: the engine judges the change; the fast lane learns the shape's template."""
    commit = lane.commit(record) if lane is not None else commit_of(record)
    claimed = lane.claimed(record) if lane is not None and brought is None else None
    judged = walk.judge(commit, brought.result() if brought else None, claimed)
    row = judged.row
    public = row.to_dict()
    lines = dict_lines(public, row.spool_extras())
    spool.write(row.section, *lines)
    if lane is not None and brought is None:
        lane.learn(record, judged, public, walk.policy, lines)


def _policy_info(walk: Walk) -> dict[str, object]:
    if walk.gated is not None:
        info: dict[str, object] = {
            "source": walk.gated.describe(),
            "digest": (walk.gated.latest() or walk.policy).digest,
            "default": False,
            "gated": {origin or "default": n for origin, n in sorted(walk.gated.used.items())},
        }
        if walk.default is not None and walk.gated.used[""]:
            info["people"] = walk.default.people()
        return info
    if walk.default is None:
        source = str(walk.options.policy)
        if walk.options.identities:
            source += " (--identities ignored: the policy's people decide who is who)"
        return {"source": source, "digest": walk.policy.digest, "default": False}
    return {
        "source": "default: one approval by someone other than the authors, co-authors and "
        "committers, "
        "accepting signed, forge and trailer evidence; people inferred from the history's "
        "emails (each distinct email one person unless --identities merges them)",
        "digest": walk.policy.digest,
        "default": True,
        "people": walk.default.people(),
    }


def _sources(walk: Walk) -> list[str]:
    ev = walk.evidence
    sources = [
        f"git history of {walk.ref} (first-parent; a merge or a squash counts as one change)",
        "commit-message trailers: Reviewed-by, Acked-by, Approved-by (trust: trailer, an "
        "unverified claim; the policy's accept list decides whether they count)",
        f"twokey evidence refs (refs/twokey/*): {ev.count} verified statement(s), "
        f"{len(ev.rejected)} refused"
        + (" (no policy, so no keys to verify with)" if walk.default and ev.rejected else ""),
        _ledger_source(walk.ledger),
        _forge_source(walk.ledger),
        walk.forge.describe(),
    ]
    if counts_applied(walk.trusted, walk.ref):
        sources.append(
            "applied patches (git am: the committer is not the author): the committer as "
            "approver (trust: trailer, an unverified claim), counted where the rule says "
            "count_applied"
        )
    if not len(walk.deploys):
        sources.append("deploys: no deploy records (signed or in the ledger): deployer unknown")
    return sources


def _forge_count(ledger: LedgerRecords | None) -> int:
    return len({id(a) for v in ledger.approvals.values() for a in v}) if ledger else 0


def _forge_source(ledger: LedgerRecords | None) -> str:
    count = _forge_count(ledger)
    if count:
        return f"forge data: {count} approval(s) recorded in the ledger, each signed and verified"
    return (
        "forge data: none; forge reviews are recorded into the ledger by the gateway, which "
        "is not deployed yet"
    )


def _ledger_source(ledger: LedgerRecords | None) -> str:
    if ledger is None:
        return (
            "ledger: not given (--ledger URL adds recorded gate decisions, forge reviews "
            "and deploys)"
        )
    forge = _forge_count(ledger)
    text = (
        f"ledger {ledger.url}: {ledger.entries} entries; {len(ledger.decisions)} gate "
        f"decision(s) on this ref, {forge} forge approval(s), {len(ledger.deploys)} deploy(s)"
    )
    exceptions = len(ledger.glass.found)
    text += f", {exceptions} break-glass exception(s) with {len(ledger.glass.reviews)} review(s)"
    skipped = ledger.skipped + ledger.glass.unreadable
    if skipped:
        text += f"; {skipped} unreadable entries ignored (run twokey ledger verify)"
    return f"{text}; {ledger.verification()}"
