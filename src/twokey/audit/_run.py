"""Walking history and judging every landed change with the gate's own engine.

One streaming ``git log`` gives the first-parent history; each commit becomes the engine's
:class:`RefUpdateFacts` with the approvals of every source, and :func:`evaluate_safely` (the
gate's function, never a copy of a rule) judges it. Rows are spooled and totals kept on the
way, so memory does not grow with the length of history.
"""

from __future__ import annotations

__all__ = ["AuditOptions", "Progress", "run_audit"]

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from twokey.audit._changes import (
    approver_row,
    build_change,
    counts,
    trailer_approvals,
    trailer_idents,
)
from twokey.audit._default_policy import DefaultPolicy
from twokey.audit._fast import FastLane
from twokey.audit._memo import Judgement, Memo, judge
from twokey.audit._model import ApproverRow, AuditChange, Deployment, Totals
from twokey.audit._report import AuditReport, Spool
from twokey.audit._signals import SignalStats, TimedApproval, risk_signals
from twokey.audit._sources import Deploys, LedgerRecords, RefEvidence, read_ledger
from twokey.errors import UsageError
from twokey.evidence import repository_id
from twokey.git._history import Record, brought_commits, commit_of, first_parent_batches
from twokey.git._reader import GitReader
from twokey.git._run import Git
from twokey.model import (
    ZERO_SHA,
    Alias,
    Approval,
    BreakGlass,
    Change,
    CheckResult,
    Commit,
    RefUpdateFacts,
    TrustLevel,
)
from twokey.policy import Policy, load

Progress = Callable[[int], None]
PROGRESS_EVERY = 1000
CACHE_LIMIT = 4096  # entries per cache: memory stays bounded whatever the history
PREFETCH = 64  # commits read ahead of the one being judged
WORKERS = 4  # concurrent git processes for merges (they mostly wait on process start-up)
_EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's empty tree (SHA-1)


@dataclass(frozen=True)
class AuditOptions:
    """What to audit, and with what.

    Attributes:
        repo: a work tree or bare repository.
        ref: the audited ref (``main`` means ``refs/heads/main``).
        since: only changes committed after this (any date git's ``--since`` reads).
        until: only changes committed before this.
        policy: a policy file; None applies the default (docs/audit.md).
        identities: confirmed aliases, email -> the person's canonical email (default policy).
        ledger: a ledger URL whose decisions, forge approvals and deploys are used.
    """

    repo: Path
    ref: str = "refs/heads/main"
    since: str | None = None
    until: str | None = None
    policy: Path | None = None
    identities: dict[str, str] | None = None
    ledger: str | None = None

    def __post_init__(self) -> None:
        if not self.ref.strip():
            raise UsageError("--ref must name a ref, e.g. refs/heads/main")

    @property
    def full_ref(self) -> str:
        """The ref with its namespace."""
        return self.ref if self.ref.startswith("refs/") else f"refs/heads/{self.ref}"


class _Walk:
    """State of one audit walk: sources, policy, totals, signals, deploys in effect."""

    def __init__(self, git: Git, options: AuditOptions, repository: str, memo: bool) -> None:
        self.git = git
        self.reader = GitReader(git.git_dir, git.env)
        self.options = options
        self.ref = options.full_ref
        self.repository = repository
        self.default: DefaultPolicy | None = None
        if options.policy is not None:
            self.policy = load(options.policy)
        else:
            self.default = DefaultPolicy(self.ref, options.identities)
            self.policy = self.default.policy
        self.evidence = RefEvidence(git, self.policy, repository)
        self.ledger = read_ledger(options.ledger, self.ref, repository) if options.ledger else None
        self.deploys = self.ledger.deploys if self.ledger else Deploys()
        self.deploys.extend(self.evidence.deploys)
        self.current: dict[str, Deployment] = {}  # environment -> deploy of newer history
        self.epoch = 0  # counts changes of `current` (rows depend on the deploys in effect)
        self.covered: set[str] = set()  # first-parent commits inside a recorded push
        self.totals = Totals()
        self.stats = SignalStats()
        self.idents: set[tuple[str, str]] = set()
        self.names: dict[str, str] = {}
        self.names_of: Policy = self.policy
        self.memo = Memo() if memo else None
        self.learnt: set[tuple[object, ...]] = set()
        self.people: dict[tuple[object, ...], tuple[tuple[str, ...], tuple[ApproverRow, ...]]] = {}

    def recorded_push(self, record: Record) -> str | None:
        """The recorded ``old`` when the gate let several first-parent commits land at once.

        The ledger's decision for this commit names where the ref was (``old``); when that is
        not the commit's parent, the push brought the first-parent commits between, and the
        audit judges them as the one change the gate judged (the others are then ``covered``
        and get no row of their own). Only when ``old`` is really on the first-parent chain.
        """
        if self.ledger is None or not self.ledger.decisions:
            return None
        fields = record[0]
        recorded = self.ledger.decisions.get(fields[0][1:])
        parent = fields[2].split(" ", 1)[0]
        if recorded is None or recorded.old in ("", ZERO_SHA, parent):
            return None
        out = self.git.run(  # fails (empty) when old is not even in the repository
            "rev-list",
            "--first-parent",
            "--parents",
            fields[0][1:],
            f"^{recorded.old}",
            "--",
            check=False,
        )
        chain = [line.split() for line in out.decode().splitlines()]
        if not chain or len(chain[-1]) < 2 or chain[-1][1] != recorded.old:
            return None  # old is not on the first-parent chain: judge commit by commit
        self.covered.update(line[0] for line in chain[1:])
        return recorded.old

    def special(self) -> set[str]:
        """Commit ids and trees named by evidence, ledger records or deploys (not simple)."""
        found = {*self.evidence.approvals, *self.evidence.checks, *self.deploys.by_commit}
        if self.ledger is not None:
            found.update(self.ledger.decisions, self.ledger.approvals)
        return found

    def judge(self, commit: Commit, brought: Brought | None) -> AuditChange:
        """Judge one first-parent commit.

        ``brought``: a merge's commits, or the whole :class:`Change` of a recorded push of
        several first-parent commits (:meth:`recorded_push`); None for one plain commit.
        """
        recorded = self.ledger.decisions.get(commit.sha) if self.ledger else None
        pusher = recorded.pusher if recorded else None
        if isinstance(brought, Change):
            change, kind = replace(brought, pusher=pusher), "push"
        else:
            change, kind = build_change(brought, commit, self.repository, self.ref, pusher)
        when = commit.committer.time or commit.author.time or datetime.now(UTC)
        approvals, checks = self._approvals(change, when)
        self._learn(change)
        glass = None
        if recorded is not None and recorded.break_glass and pusher is not None:
            glass = BreakGlass(pusher, recorded.break_glass, recorded.time)
        facts = RefUpdateFacts(change, tuple(approvals), tuple(checks), (), glass)
        decision = judge(self.memo, self.policy, facts, when)
        row = self._row(change, kind, decision, approvals, recorded.verdict if recorded else None)
        self.totals.add(row)
        self.stats.add(row, self._timed(change, approvals, decision))
        return row

    def _approvals(
        self, change: Change, when: datetime
    ) -> tuple[list[Approval], list[CheckResult]]:
        signed, checks = self.evidence.for_change(change)
        approvals = list(signed)
        if self.ledger is not None and self.ledger.approvals:
            keys = {change.new, change.new_tree, *(c.sha for c in change.commits)}
            seen = {id(a): a for k in keys for a in self.ledger.approvals.get(k, ())}
            approvals += seen.values()
        for c in change.commits:
            if c.trailers:
                approvals += trailer_approvals(
                    c, self.repository, self.ref, c.committer.time or when
                )
        return approvals, checks

    def _learn(self, change: Change) -> None:
        """Identities seen (for probable aliases) and, by default policy, new people."""
        emails = []
        for c in change.commits:
            seen = (c.author.name, c.author.email, c.committer.name, c.committer.email, c.trailers)
            if seen in self.learnt:
                continue  # most commits: people (and trailers' people) already known
            if len(self.learnt) < CACHE_LIMIT:
                self.learnt.add(seen)
            self.idents.add((c.author.name, c.author.email.lower()))
            self.idents.add((c.committer.name, c.committer.email.lower()))
            emails += [c.author.email, c.committer.email, *(a.email for a in c.co_authors)]
            for name, email in trailer_idents(c):
                self.idents.add((name, email.lower()))
                emails.append(email)
        if self.default is not None:
            self.policy = self.default.ensure(emails)

    def _fresh(self) -> None:
        """Forget names and people resolved under an older policy (the default grows)."""
        if self.names_of is not self.policy:
            self.names, self.names_of = {}, self.policy
            self.people.clear()

    def _name(self, email: str) -> str:
        self._fresh()
        name = self.names.get(email)
        if name is None:
            principal = self.policy.resolve(Alias.email(email)) if email.strip() else None
            name = principal.id if principal is not None else email.lower()
            self.names[email] = name
        return name

    def _row(
        self,
        change: Change,
        kind: str,
        decision: Judgement,
        approvals: list[Approval],
        gate: str | None,
    ) -> AuditChange:
        head = change.commits[-1]
        content = [c for c in change.commits if not (c.is_merge and c.clean_merge)]
        authors, rows = self._people(change, content, approvals, decision.counted)
        when = (head.committer.time or datetime.now(UTC)).isoformat()
        merger = str(change.pusher) if change.pusher else head.committer.email
        emails = {c.author.email.lower() for c in content}
        emails |= {a.email.lower() for c in change.commits for a in c.co_authors}
        return AuditChange(
            head.sha,
            when,
            head.message.split("\n", 1)[0],
            kind,
            authors,
            rows,
            self._name_alias(change.pusher) if change.pusher else self._name(merger),
            self._deployments(head.sha),
            decision.verdict,
            decision.findings,
            decision.break_glass,
            len(change.paths) if self.options.policy is not None else None,
            tuple(sorted(emails)),
            gate,
        )

    def _people(
        self,
        change: Change,
        content: list[Commit],
        approvals: list[Approval],
        counted: frozenset[tuple[str, str, str]],
    ) -> tuple[tuple[str, ...], tuple[ApproverRow, ...]]:
        """Authors and approver rows; remembered for a single commit with trailer approvals."""
        key: tuple[object, ...] | None = None
        if len(change.commits) == 1 and all(a.trust is TrustLevel.TRAILER for a in approvals):
            commit = change.commits[0]
            signers = tuple((a.signer, a.source) for a in approvals)
            key = (commit.author.email, commit.co_authors, signers, counted)
            self._fresh()
            hit = self.people.get(key)
            if hit is not None:
                return hit
        authors = {self._name(c.author.email) for c in content}
        authors |= {self._name(a.email) for c in change.commits for a in c.co_authors}
        rows = {approver_row(self.policy, a, counted) for a in approvals}
        found = (
            tuple(sorted(authors)),
            tuple(sorted(rows, key=lambda r: (r.who, r.source, r.trust, r.time or ""))),
        )
        if key is not None:
            if len(self.people) >= CACHE_LIMIT:
                self.people.clear()
            self.people[key] = found
        return found

    def name_of(self, alias: Alias) -> str:
        """The person id of ``alias`` under the audit's policy, or the alias itself."""
        return self._name_alias(alias)

    def _name_alias(self, alias: Alias) -> str:
        principal = self.policy.resolve(alias)
        return principal.id if principal is not None else str(alias)

    def _deployments(self, sha: str) -> tuple[Deployment, ...]:
        """The first deploy per environment that included this change (newest-first walk)."""
        for environment, deployer, when, source in sorted(
            self.deploys.by_commit.get(sha, ()), key=lambda d: d[2], reverse=True
        ):
            who = self._name_alias(deployer)
            self.current[environment] = Deployment(environment, who, when.isoformat(), source)
            self.epoch += 1
        return tuple(self.current[e] for e in sorted(self.current))

    def _timed(
        self, change: Change, approvals: list[Approval], decision: Judgement
    ) -> list[TimedApproval]:
        """Counted signed or forge approvals, with their delay and the change's size."""
        counted = decision.counted
        timed = []
        for a in approvals:
            if a.trust is TrustLevel.TRAILER:
                continue
            principal = self.policy.resolve(a.signer)
            if principal is None or not counts(principal.id, a, counted):
                continue
            content = next((c for c in change.commits if c.sha == a.commit), change.commits[-1])
            if content.committer.time is None:
                continue
            seconds = (a.time - content.committer.time).total_seconds()
            timed.append(TimedApproval(principal.id, seconds, self._lines(change)))
        return timed

    def _lines(self, change: Change) -> int:
        old = change.old if change.old != ZERO_SHA else _EMPTY_TREE
        out = self.git.run("diff", "--numstat", "--no-renames", old, change.new, "--")
        total = 0
        for line in out.decode(errors="replace").splitlines():
            added, removed, _ = line.split("\t", 2)
            total += int(added) if added.isdigit() else 0
            total += int(removed) if removed.isdigit() else 0
        return total


Brought = list[Commit] | Change  # a merge's commits, or a recorded push's whole change
Ready = tuple[Record, "Future[Brought] | None"]


def _pushed(walk: _Walk, record: Record, old: str) -> Brought:
    """The gate's own reading of the recorded update ``old -> record``."""
    return walk.reader.change(walk.ref, old, record[0][0][1:], repository=walk.repository)


def _merged(walk: _Walk, record: Record) -> Brought:
    """The commits a merge brings, as the gate reads them."""
    return brought_commits(walk.reader, commit_of(record))


class _Prefetch:
    """Merges and recorded pushes, read ahead in threads; rows kept in order.

    A merge costs two git processes (the gate's own reads: the commits, then the clean-merge
    check), a recorded push of several commits three (commits, ancestry, paths); run one
    after the other they dominate such a history, so up to ``PREFETCH`` of them ahead are
    read concurrently. The window bounds memory; without them nothing waits in it.
    """

    def __init__(self, walk: _Walk, pool: ThreadPoolExecutor) -> None:
        self.walk = walk
        self.pool = pool
        self.window: deque[Ready] = deque()

    def add(self, record: Record, old: str | None = None) -> Iterator[Ready]:
        """Queue ``record`` (``old``: a recorded push's base); yield what is ready, in order."""
        if old is not None:
            self.window.append((record, self.pool.submit(_pushed, self.walk, record, old)))
        elif " " in record[0][2]:  # parents: a merge
            self.window.append((record, self.pool.submit(_merged, self.walk, record)))
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


def run_audit(
    options: AuditOptions, *, progress: Progress | None = None, memo: bool = True
) -> AuditReport:
    """Judge every change that landed on ``options.ref`` in the period.

    ``memo=False`` sends every change to the engine and writes every row the slow way
    (``twokey.audit._memo`` and ``twokey.audit._fast`` explain both; the tests compare).

    Raises:
        UsageError: the ref does not exist.
        ConfigError: the policy file is invalid.
        InfrastructureError: git or the ledger failed.
    """
    git = Git.discover(options.repo)
    ref = options.full_ref
    if not git.ok("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"):
        raise UsageError(f"{ref} does not exist in {options.repo}", hint="pass --ref REF")
    walk = _Walk(git, options, repository_id(git.git_dir), memo)
    lane = FastLane(walk.special(), walk.policy, walk.totals, walk.stats) if memo else None
    spool = Spool()
    try:
        _walk_history(walk, lane, spool, progress)
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
    report.signals = risk_signals(walk.stats, walk.idents)
    report.fast_rows = lane.hits if lane is not None else 0
    if walk.ledger is not None:
        found = walk.ledger.glass.resolve(walk.policy)
        report.exceptions = [e.to_dict(walk.name_of(e.actor)) for e in found]
    return report


def _walk_history(
    walk: _Walk, lane: FastLane | None, spool: Spool, progress: Progress | None
) -> None:
    options = walk.options
    batches = first_parent_batches(
        walk.git,
        walk.ref,
        since=options.since,
        until=options.until,
        paths=options.policy is not None,
    )
    done = 0
    with ThreadPoolExecutor(WORKERS, thread_name_prefix="twokey-audit") as pool:
        ahead = _Prefetch(walk, pool)
        waiting, covered = ahead.window, walk.covered
        recorded = walk.ledger.decisions if walk.ledger is not None else {}
        for batch in batches:  # the hot loop: one batch per chunk of git's output
            for record in batch:
                head = record[0][0]
                if covered and head[1:] in covered:
                    covered.discard(head[1:])  # inside a recorded push: judged with it
                    continue
                old = walk.recorded_push(record) if head[1:] in recorded else None
                if waiting or old is not None or " " in record[0][2]:
                    for ready, brought in ahead.add(record, old):
                        _one(walk, lane, spool, ready, brought)
                elif lane is None or not lane.write(record, walk.epoch, walk.policy, spool):
                    _judge(walk, lane, spool, record, None)
            before, done = done, done + len(batch)
            if progress is not None and done // PROGRESS_EVERY > before // PROGRESS_EVERY:
                progress(done)
        for ready, brought in ahead.rest():
            _one(walk, lane, spool, ready, brought)
    if lane is not None:
        lane.flush()


def _one(
    walk: _Walk,
    lane: FastLane | None,
    spool: Spool,
    record: Record,
    brought: Future[Brought] | None,
) -> None:
    """Judge one change: from its shape's template when there is one, else the slow way."""
    if brought is None and lane is not None and lane.write(record, walk.epoch, walk.policy, spool):
        return
    _judge(walk, lane, spool, record, brought)


def _judge(
    walk: _Walk,
    lane: FastLane | None,
    spool: Spool,
    record: Record,
    brought: Future[Brought] | None,
) -> None:
    """The slow way: the engine judges the change; the fast lane learns the shape's template."""
    row = walk.judge(commit_of(record), brought.result() if brought else None)
    spool.add(row)
    if lane is not None and brought is None:
        lane.learn(record, row, walk.policy)


def _policy_info(walk: _Walk) -> dict[str, object]:
    if walk.default is None:
        source = str(walk.options.policy)
        if walk.options.identities:
            source += " (--identities ignored: the policy's people decide who is who)"
        return {"source": source, "digest": walk.policy.digest, "default": False}
    return {
        "source": "default: one approval by someone other than the author (and co-authors), "
        "accepting signed, forge and trailer evidence; people inferred from the history's "
        "emails (each distinct email one person unless --identities merges them)",
        "digest": walk.policy.digest,
        "default": True,
    }


def _sources(walk: _Walk) -> list[str]:
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
    ]
    if not len(walk.deploys):
        sources.append("deploys: no deploy records (signed or in the ledger): deployer unknown")
    return sources


def _forge_count(ledger: LedgerRecords | None) -> int:
    return len({id(a) for v in ledger.approvals.values() for a in v}) if ledger else 0


def _forge_source(ledger: LedgerRecords | None) -> str:
    count = _forge_count(ledger)
    if count:
        return f"forge data: {count} forge review(s) recorded in the ledger (trust: forge)"
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
    if ledger.skipped:
        text += f"; {ledger.skipped} unreadable entries ignored (run twokey ledger verify)"
    return text
