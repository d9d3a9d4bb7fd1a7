"""Walking history and judging every landed change with the gate's own engine."""

from __future__ import annotations

__all__ = ["AuditOptions", "run_audit"]

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from twokey.audit._default_policy import default_policy
from twokey.audit._model import ApproverRow, AuditChange, AuditReport
from twokey.audit._signals import risk_signals
from twokey.engine import evaluate_safely
from twokey.evidence import GitEvidenceStore, repository_id, verify_envelopes
from twokey.git._history import brought_commits, first_parent_history
from twokey.git._run import Git
from twokey.git._trailers import parse_ident
from twokey.model import (
    ZERO_SHA,
    Alias,
    Approval,
    Change,
    CheckResult,
    Commit,
    Decision,
    RefUpdateFacts,
    TrustLevel,
)
from twokey.policy import Policy, load

REVIEW_TRAILERS = ("reviewed-by", "acked-by", "approved-by")
Progress = Callable[[int], None]


@dataclass(frozen=True)
class AuditOptions:
    """What to audit, and with what."""

    repo: Path
    ref: str = "refs/heads/main"
    since: str | None = None
    until: str | None = None
    policy: Path | None = None
    identities: dict[str, str] | None = None  # email -> canonical email, confirmed by a human
    ledger: str | None = None


class _Evidence:
    """Signed evidence from the repository's refs, indexed by commit and tree."""

    def __init__(self, git: Git, policy: Policy) -> None:
        verified = verify_envelopes(GitEvidenceStore(git.git_dir).all(), policy)
        self.approvals: dict[str, list[Approval]] = {}
        for approval in verified.approvals:
            self.approvals.setdefault(approval.commit, []).append(approval)
            self.approvals.setdefault(approval.tree, []).append(approval)
        self.checks: dict[str, list[CheckResult]] = {}
        for check in verified.checks:
            self.checks.setdefault(check.subject, []).append(check)
        self.count = sum(1 for _ in verified.approvals) + len(verified.checks)
        self.rejected = verified.rejected

    def for_change(self, change: Change) -> tuple[list[Approval], list[CheckResult]]:
        keys = {
            change.new,
            change.new_tree,
            *(c.sha for c in change.commits),
            *(p for c in change.commits for p in c.parents[1:]),
        }
        found = {id(a): a for k in keys for a in self.approvals.get(k, [])}
        return list(found.values()), self.checks.get(change.new_tree, [])


def _trailer_approvals(commit: Commit, repository: str, ref: str, when: datetime) -> list[Approval]:
    out = []
    for key, value in commit.trailers:
        if key.lower() in REVIEW_TRAILERS and "<" in value and value.endswith(">"):
            email = value[value.rindex("<") + 1 : -1].strip()
            if email:
                out.append(
                    Approval(
                        repository,
                        ref,
                        commit.sha,
                        commit.tree,
                        Alias.email(email),
                        when,
                        TrustLevel.TRAILER,
                        f"trailer:{key}",
                    )
                )
    return out


def _trailer_idents(commit: Commit) -> set[tuple[str, str]]:
    out = set()
    for key, value in commit.trailers:
        ident = parse_ident(value) if key.lower() in REVIEW_TRAILERS else None
        if ident is not None:
            out.add((ident.name, ident.email))
    return out


def _change(git: Git, commit: Commit, repository: str, ref: str) -> tuple[Change, str]:
    old = commit.parents[0] if commit.parents else ZERO_SHA
    if commit.is_merge:
        brought = brought_commits(git, commit)
        clean = _clean(git, commit)
        merged = Commit(
            commit.sha,
            commit.tree,
            commit.parents,
            commit.author,
            commit.committer,
            commit.co_authors,
            commit.message,
            (),
            None,
            clean,
            commit.trailers,
        )
        return Change(repository, ref, old, commit.sha, commit.tree, (*brought, merged)), "merge"
    return Change(repository, ref, old, commit.sha, commit.tree, (commit,)), "squash-or-direct"


def _clean(git: Git, merge: Commit) -> bool:
    if len(merge.parents) != 2:
        return False
    out = git.run("merge-tree", "--write-tree", "--no-messages", *merge.parents, check=False)
    return out.decode().split()[:1] == [merge.tree]


def _row(
    policy: Policy, change: Change, kind: str, decision: Decision, approvals: list[Approval]
) -> AuditChange:
    head = change.commits[-1]
    authors = sorted(
        {
            _name(policy, c.author.email)
            for c in change.commits
            if not (c.is_merge and c.clean_merge)
        }
        | {_name(policy, a.email) for c in change.commits for a in c.co_authors}
    )
    counted = {c.person for c in decision.counted}
    rows = sorted(
        {_approver(policy, a, counted) for a in approvals}, key=lambda r: (r.who, r.source)
    )
    when = head.committer.time or datetime.now(UTC)
    return AuditChange(
        head.sha,
        when.isoformat(),
        when.strftime("%Y-%m"),
        head.message.split("\n", 1)[0],
        kind,
        tuple(authors),
        tuple(rows),
        _name(policy, head.committer.email),
        None,
        decision.verdict.value,
        tuple((f.code.value, f.message) for f in decision.findings if f.severity.value != "info"),
        decision.break_glass,
        len(change.paths),
        tuple(
            sorted(
                {c.author.email.lower() for c in change.commits}
                | {a.email.lower() for c in change.commits for a in c.co_authors}
            )
        ),
    )


def _approver(policy: Policy, approval: Approval, counted: set[str]) -> ApproverRow:
    principal = policy.resolve(approval.signer)
    if principal is not None:
        who = principal.id
    elif approval.signer.kind == "email":
        who = approval.signer.value
    else:
        who = str(approval.signer)[:40]
    source = "twokey evidence ref" if approval.source.startswith("refs/") else approval.source
    email = approval.signer.value if approval.signer.kind == "email" else ""
    counts = principal is not None and principal.id in counted
    return ApproverRow(who, source, approval.trust.value, counts, email)


def _name(policy: Policy, email: str) -> str:
    principal = policy.resolve(Alias.email(email)) if email.strip() else None
    return principal.id if principal is not None else email.lower()


def _history(git: Git, options: AuditOptions) -> Iterator[Commit]:
    return first_parent_history(git, options.ref, since=options.since, until=options.until)


def _emails(git: Git, options: AuditOptions) -> set[str]:
    out = git.run(
        "log",
        "--format=%ae%n%ce%n%(trailers:key=Reviewed-by,key=Acked-by,"
        "key=Approved-by,key=Co-authored-by,valueonly,separator=%x0a)",
        options.ref,
        "--",
    )
    emails = set()
    for raw in out.decode(errors="replace").splitlines():
        value = raw.strip()
        if "<" in value and value.endswith(">"):
            value = value[value.rindex("<") + 1 : -1]
        if "@" in value:
            emails.add(value.lower())
    return emails


def run_audit(options: AuditOptions, *, progress: Progress | None = None) -> AuditReport:
    """Judge every change that landed on ``options.ref`` in the period."""
    git = Git.discover(options.repo)
    repository = repository_id(git.git_dir)
    ref = options.ref if options.ref.startswith("refs/") else f"refs/heads/{options.ref}"
    options = AuditOptions(
        options.repo,
        ref,
        options.since,
        options.until,
        options.policy,
        options.identities,
        options.ledger,
    )
    if options.policy is not None:
        policy = load(options.policy)
        policy_info = {"source": str(options.policy), "digest": policy.digest, "default": False}
    else:
        policy = default_policy(ref, _emails(git, options), options.identities)
        policy_info = {
            "source": "default: one approval by someone other than the author "
            "(people inferred from the history's emails)",
            "digest": policy.digest,
            "default": True,
        }
    evidence = _Evidence(git, policy)
    changes = []
    idents: set[tuple[str, str]] = set()
    for n, commit in enumerate(_history(git, options), 1):
        idents.add((commit.author.name, commit.author.email))
        idents.update(_trailer_idents(commit))
        change, kind = _change(git, commit, repository, ref)
        when = commit.committer.time or datetime.now(UTC)
        signed, checks = evidence.for_change(change)
        trailers = [a for c in change.commits for a in _trailer_approvals(c, repository, ref, when)]
        trailers = [a for a in trailers if a.commit == commit.sha] + [
            Approval(
                a.repository, a.ref, commit.sha, commit.tree, a.signer, a.time, a.trust, a.source
            )
            for a in trailers
            if a.commit != commit.sha
        ]
        approvals = signed + trailers
        decision = evaluate_safely(
            policy, RefUpdateFacts(change, tuple(approvals), tuple(checks)), when
        )
        changes.append(_row(policy, change, kind, decision, approvals))
        if progress is not None and n % 1000 == 0:
            progress(n)
    sources = _sources(evidence, options)
    report = AuditReport(
        repository, ref, options.since, options.until, changes, sources, policy_info
    )
    report.signals = risk_signals(report.changes, idents)
    return report


def _sources(evidence: _Evidence, options: AuditOptions) -> list[str]:
    sources = [
        f"git history of {options.ref} (first-parent; merges and squashes count as one change)",
        "commit-message trailers: Reviewed-by, Acked-by, Approved-by (trust: trailer, an "
        "unverified claim)",
        f"twokey evidence refs (refs/twokey/*): {evidence.count} verified statement(s), "
        f"{len(evidence.rejected)} refused",
    ]
    sources.append(
        f"ledger: {options.ledger}"
        if options.ledger
        else "ledger: not given (--ledger URL adds recorded decisions and deploys)"
    )
    sources.append("forge data: none (the gateway that records forge reviews is not deployed)")
    return sources
