"""One landed change at a time: the walk's sources, policy, totals, signals and deploys.

:class:`Walk` turns a first-parent commit (with a merge's or a recorded push's commits) into
the engine's :class:`RefUpdateFacts` with the approvals of every source, has the gate's own
engine judge it (``twokey.audit._judgement``), and makes the report row.
``twokey.audit._run`` drives it over the history.
"""

from __future__ import annotations

__all__ = ["CACHE_LIMIT", "AuditOptions", "Brought", "Judged", "Walk"]

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from twokey.audit._changes import (
    REVIEW_TRAILERS,
    approver_row,
    build_change,
    claimed_approvals,
    counts,
    counts_applied,
    trailer_idents,
)
from twokey.audit._default_policy import DefaultPolicy
from twokey.audit._early import StartReads
from twokey.audit._forge import ForgeEvidence
from twokey.audit._gated import GatedPolicies
from twokey.audit._identities import history_idents
from twokey.audit._judgement import Judgement, judge
from twokey.audit._model import ApproverRow, AuditChange, Deployment, RowCounts, Totals
from twokey.audit._options import AuditOptions
from twokey.audit._signals import SignalShape, SignalStats, TimedApproval
from twokey.audit._sources import Deploys, RefEvidence, read_ledger
from twokey.git import (
    GitReader,
    MergeResolution,
    Record,
    landing_heads,
    merge_resolution,
    merge_resolutions,
    plain_diff_config,
)
from twokey.git import GitRunner as Git
from twokey.model import (
    ZERO_SHA,
    Alias,
    Approval,
    BreakGlass,
    Change,
    CheckResult,
    Commit,
    Landing,
    RefUpdateFacts,
    TrustLevel,
)
from twokey.policy import Policy, load

CACHE_LIMIT = 4096  # entries per cache: memory stays bounded whatever the history
_EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's empty tree (SHA-1)
Brought = list[Commit] | Change  # a merge's commits, or a recorded push's whole change


def _range_emails(
    git: Git, ref: str, options: AuditOptions, idents: set[tuple[str, str]] | None = None
) -> list[str]:
    """Every email of the audited range, read up front by one ``git log`` (in C, ~1/10 of
    the walk): the default policy then holds the history's people from the start, and the
    caches keyed on it (templates, the engine's index) are not dropped per new person.
    Emails it misses (a merged commit older than ``--since``) are added as they appear.
    ``idents``: that read's answer when it was begun earlier (``twokey.audit._early``)."""
    if idents is None:
        idents = history_idents(git, ref, options.since, options.until)
    return sorted({email for _, email in idents})


@dataclass(frozen=True, slots=True)
class Judged:
    """One change the engine judged: its row, and what the totals and signals counted of it
    (the fast lane's template keeps both rather than reading the row again)."""

    row: AuditChange
    counts: RowCounts
    signals: SignalShape


class Walk:
    """State of one audit walk: sources, policy, totals, signals, deploys in effect."""

    def __init__(
        self, git: Git, options: AuditOptions, repository: str, reads: StartReads | None = None
    ) -> None:
        self.git = git
        # The reader the runs begun before the walk read with (their merge-trees are cached
        # in it), or a new one.
        self.reader = (
            reads.reader
            if reads is not None
            else GitReader(git.git_dir, git.env, commit_graph=True)  # as _early's
        )
        self.options = options
        self.ref = options.full_ref
        self.repository = repository
        self.default: DefaultPolicy | None = None
        self.gated: GatedPolicies | None = None
        self._seeded = False
        self._idents = reads.idents if reads is not None else None  # begun ahead, or None
        if options.policy is not None:
            self.policy = load(options.policy)
        else:
            versions = reads.versions if reads is not None else None
            self.gated = GatedPolicies.find(
                git, options.default_ref or self.ref, self.ref, versions
            )
            self.default = DefaultPolicy(self.ref, options.identities)
            self.policy = self.default.policy
        latest = self.gated.latest() if self.gated is not None else None
        if latest is not None:
            self.policy = latest
        elif self.default is not None:
            self.policy = self._inferred()
        self.by_default = self.default is not None and latest is None
        self.reads_paths = self.default is None or self.gated is not None
        self.trusted = self.policy  # the policy in force now: --policy, or the newest version
        # Evidence is verified with the keys of the policy in force now (the newest version).
        self.evidence = RefEvidence(git, self.policy, repository)
        self.ledger = (
            read_ledger(options.ledger, self.ref, repository, self.policy, key=options.ledger_key)
            if options.ledger
            else None
        )
        self.forge = ForgeEvidence.read(git, repository, self.ref)
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
        self.learnt: set[tuple[object, ...]] = set()
        self.people: dict[tuple[object, ...], tuple[tuple[str, ...], tuple[ApproverRow, ...]]] = {}
        self._applied: tuple[Policy | None, bool] = (None, False)
        self.resolved: dict[str, MergeResolution] = {}  # measured ahead (:meth:`measure`)
        self.plain_diff: bool | None = None  # see _plain_diff

    def _inferred(self) -> Policy:
        """The inferred default, seeded with the range's people on first use."""
        assert self.default is not None
        if not self._seeded:
            self._seeded = True
            idents = self._idents.result() if self._idents is not None else None
            self.default.seed(_range_emails(self.git, self.ref, self.options, idents))
        return self.default.policy

    def use(self, record: Record) -> None:
        """Judge ``record`` next: in a gated repository, by the policy its gate read."""
        if self.gated is None:
            return
        fields = record[0]
        when = 0 if self.gated.on_default else int(datetime.fromisoformat(fields[8]).timestamp())
        found = self.gated.at(fields[0][1:], fields[2].split(" ", 1)[0], when)
        self.by_default = found is None
        self.policy = found if found is not None else self._inferred()

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
        found.update(self.forge.keys())
        if self.ledger is not None:
            found.update(self.ledger.decisions, self.ledger.approvals)
        return found

    def judge(
        self,
        commit: Commit,
        brought: Brought | None,
        claimed: tuple[bool, list[Approval]] | None = None,
    ) -> Judged:
        """Judge one first-parent commit: its row, counted in the totals and signals.

        ``brought``: a merge's commits, or the whole :class:`Change` of a recorded push of
        several first-parent commits (:meth:`recorded_push`); None for one plain commit.
        ``claimed``: for one plain commit, ``(applied, claimed_approvals(commit, ...,
        applied=applied))`` at its committer time, when the fast lane read them
        (``FastLane.claimed``).
        """
        recorded = self.ledger.decisions.get(commit.sha) if self.ledger else None
        pusher = recorded.pusher if recorded else None
        if isinstance(brought, Change):
            change, kind = replace(brought, pusher=pusher), "push"
        else:
            change, kind = build_change(brought, commit, self.repository, self.ref, pusher)
        when = commit.committer.time or commit.author.time or datetime.now(UTC)
        approvals, checks = self._approvals(change, when, claimed if brought is None else None)
        self._learn(change)
        glass = None
        if recorded is not None and recorded.break_glass and pusher is not None:
            glass = BreakGlass(pusher, recorded.break_glass, recorded.time)
        change, landings = self._landings(change, approvals)
        facts = RefUpdateFacts(change, tuple(approvals), tuple(checks), (), glass, landings)
        decision = judge(self.policy, facts, when)
        row = self._row(change, kind, decision, approvals, recorded.verdict if recorded else None)
        judged = Judged(row, RowCounts.of(row), SignalShape.of(row))
        self.totals.count(row.month, judged.counts)
        self.stats.add(row, self._timed(change, approvals, decision), judged.signals)
        return judged

    def _approvals(
        self, change: Change, when: datetime, claimed: tuple[bool, list[Approval]] | None = None
    ) -> tuple[list[Approval], list[CheckResult]]:
        signed, checks = self.evidence.for_change(change)
        approvals = list(signed)
        keys = {change.new, change.new_tree, *(c.sha for c in change.commits)}
        for source in (self.ledger.approvals if self.ledger else {}, self.forge.approvals):
            if source:
                seen = {id(a): a for k in keys for a in source.get(k, ())}
                approvals += seen.values()
        applied = self._counts_applied()
        if claimed is not None and claimed[0] != applied:
            claimed = None  # read under another policy: read again
        for c in change.commits:
            if c.trailers or applied:
                approvals += (
                    claimed[1]
                    if claimed is not None
                    else claimed_approvals(
                        c, self.repository, self.ref, c.committer.time or when, applied=applied
                    )
                )
        return approvals, checks

    def _counts_applied(self) -> bool:
        """Whether the policy judging this change counts ``applied`` evidence (remembered
        per policy: in a gated repository it changes with the history)."""
        if self._applied[0] is not self.policy:
            self._applied = (self.policy, counts_applied(self.policy, self.ref))
        return self._applied[1]

    def _landings(
        self, change: Change, approvals: list[Approval]
    ) -> tuple[Change, tuple[Landing, ...]]:
        """What landing each approved head on the change's old tip gives, as the gate reads it.

        The same heads (``landing_heads``) and the same ``git merge-tree`` as the gate, so the
        two agree on which approvals bind (invariant 2, ADR 0011); the change gets its old
        tree, as the gate's reading has it. Nothing to read for most changes.
        """
        heads = landing_heads(change, approvals)
        if not heads:
            return change, ()
        change = self.reader.old_tree(change)
        known = {c.sha: c.tree for c in change.commits}
        found = self.reader.landings(
            change.old, heads, known, new_tree=change.new_tree, brought=change.commits
        )
        return change, tuple(found)

    def learn_commit(self, commit: Commit) -> Policy:
        """Learn the people of one plain commit as judging it learns them; the policy then
        (the fast lane's, when it fills in a template without the engine: ``_recast``)."""
        self._learn_commits((commit,))
        return self.policy

    def _learn(self, change: Change) -> None:
        """Identities seen (for probable aliases) and, by default policy, new people."""
        self._learn_commits(change.commits)

    def _learn_commits(self, commits: Iterable[Commit]) -> None:
        emails = []
        for c in commits:
            # Everything read below: names, emails, co-authors and review trailers (a Gerrit
            # message's other trailers, Change-Id and Reviewed-on, make every message new).
            review = tuple(t for t in c.trailers if t[0].lower() in REVIEW_TRAILERS)
            a, m = c.author, c.committer
            seen = (a.name, a.email, m.name, m.email, c.co_authors, review)
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
        if self.default is not None and self.by_default:
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
            self.name_of(change.pusher) if change.pusher else self._name(merger),
            self._deployments(head.sha),
            decision.verdict,
            decision.findings,
            decision.break_glass,
            len(change.paths) if self.reads_paths else None,
            tuple(sorted(emails)),
            gate,
            self._resolutions(change),
        )

    def measure(self, commits: list[Commit]) -> None:
        """Measure the merges among ``commits`` that are not clean, ahead of judging them
        (in a read-ahead thread); :meth:`_resolutions` takes them. git's merge of each one's
        parents comes from the clean-merge check's batch when it read it
        (``GitReader.auto_merge``), and their diffs are one process when the configuration
        lets ``diff-tree`` print what ``git diff`` prints (``plain_diff_config``)."""
        todo = [c for c in commits if c.is_merge and c.clean_merge is False]
        todo = [c for c in todo if c.sha not in self.resolved]
        read = []
        for merge in todo:
            auto = self.reader.auto_merge(*merge.parents) if len(merge.parents) == 2 else None
            if auto is not None:
                read.append((merge, auto))
        if len(read) > 1 and self._plain_diff():
            self.resolved.update(merge_resolutions(self.git, read))
        autos = {merge.sha: auto for merge, auto in read}
        for merge in todo:
            if merge.sha not in self.resolved:
                found = autos.get(merge.sha)
                self.resolved[merge.sha] = merge_resolution(self.git, merge, found)

    def _plain_diff(self) -> bool:
        """``plain_diff_config`` of the walk's git, asked once."""
        if self.plain_diff is None:
            self.plain_diff = plain_diff_config(self.git)
        return self.plain_diff

    def _resolutions(self, change: Change) -> tuple[MergeResolution, ...]:
        """The merger's own content in each merge that is not clean (measured ahead, or now)."""
        return tuple(
            self.resolved.pop(c.sha) if c.sha in self.resolved else self._resolution(c)
            for c in change.commits
            if c.is_merge and c.clean_merge is False
        )

    def _resolution(self, merge: Commit) -> MergeResolution:
        """One merge's resolution, from git's merge of its parents as the clean-merge check
        read it when it did (``GitReader.auto_merge``), else read now."""
        auto = self.reader.auto_merge(*merge.parents) if len(merge.parents) == 2 else None
        return merge_resolution(self.git, merge, auto)

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
        principal = self.policy.resolve(alias)
        return principal.id if principal is not None else str(alias)

    def _deployments(self, sha: str) -> tuple[Deployment, ...]:
        """The first deploy per environment that included this change (newest-first walk)."""
        for environment, deployer, when, source in sorted(
            self.deploys.by_commit.get(sha, ()), key=lambda d: d[2], reverse=True
        ):
            who = self.name_of(deployer)
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
