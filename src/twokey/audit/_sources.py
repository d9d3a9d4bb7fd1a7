"""Evidence sources of an audit: twokey evidence refs and the ledger.

Both are indexed by commit (and tree) once, before the history walk; their size grows with the
evidence recorded, not with the length of history. Commit-message trailers are the third
source; they are read with the history itself (``twokey.audit._changes``).

The ledger holds what the doors recorded (docs/audit.md, "Ledger records"):

- ``decision`` entries (the git hook): the gate's verdict for ``ref old..new``, its pusher and
  break-glass; the audit shows the recorded verdict beside its own and re-judges with the
  recorded pusher (``last-pusher``) and break-glass.
- ``evidence`` entries that carry an approval with evidence the audit verifies itself: a
  DSSE ``envelope`` (base64) signed by a key of the policy, or (later) a forge review in a
  statement signed by a gateway key the policy trusts (:class:`GatewayTrust`; no gateway exists
  yet, so :data:`NO_GATEWAY` trusts none). An ``approval`` object without such evidence is a
  claim anyone who can append could write (issue 14, hole 1): counted, never trusted.
- ``deploy`` entries ``{"environment", "commit", "deployer", "decision"?}``: who deployed what.
"""

from __future__ import annotations

__all__ = [
    "NO_GATEWAY",
    "Deploys",
    "GatewayTrust",
    "LedgerRecords",
    "RecordedDecision",
    "RefEvidence",
    "read_ledger",
]

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from twokey.audit._exceptions import (
    GATE_DOORS,
    Exceptions,
    VerifiedEntries,
    alias_of,
    break_glass_reason,
)
from twokey.errors import VerificationError
from twokey.evidence import (
    EvidenceError,
    GitEvidenceStore,
    StoredEnvelope,
    verify_envelope,
    verify_envelopes,
)
from twokey.git import GitRunner as Git
from twokey.model import Alias, Approval, Change, CheckResult, DeployRequest
from twokey.policy import Policy

if TYPE_CHECKING:  # the ledger is imported where one is read (--ledger): ~50 ms otherwise
    from twokey.ledger import (
        Assurance,
        DecisionRecord,
        DeployRecord,
        EvidenceRecord,
    )


class RefEvidence:
    """Signed evidence from ``refs/twokey/*``, verified against the policy's keys."""

    def __init__(self, git: Git, policy: Policy, repository: str) -> None:
        verified = verify_envelopes(
            GitEvidenceStore(git.git_dir).all(), policy, repository=repository
        )
        self.approvals: dict[str, list[Approval]] = {}
        for approval in verified.approvals:
            self.approvals.setdefault(approval.commit, []).append(approval)
            if approval.tree != approval.commit:
                self.approvals.setdefault(approval.tree, []).append(approval)
        self.checks: dict[str, list[CheckResult]] = {}
        for check in verified.checks:
            self.checks.setdefault(check.subject, []).append(check)
        self.deploys: tuple[DeployRequest, ...] = verified.deploys
        self.count = verified.count
        self.rejected = verified.rejected

    def for_change(self, change: Change) -> tuple[list[Approval], list[CheckResult]]:
        """Approvals of any commit or tree the change brings; checks of its new tree.

        Which of them count is the engine's decision (bound to the landing content, or stale).
        """
        if not self.approvals and not self.checks:
            return [], []
        keys = {change.new, change.new_tree, *(c.sha for c in change.commits)}
        keys.update(c.tree for c in change.commits)
        found = {id(a): a for k in keys for a in self.approvals.get(k, ())}
        return list(found.values()), list(self.checks.get(change.new_tree, ()))


@dataclass(frozen=True)
class RecordedDecision:
    """What the gate recorded for one update of the audited ref."""

    verdict: str
    pusher: Alias | None
    break_glass: str | None  # the reason, when the update was a break-glass
    time: datetime
    old: str = ""  # where the ref was before the update (its first parent for one commit)


@dataclass
class Deploys:
    """Deploy records by deployed commit: (environment, deployer, time, source), oldest first."""

    by_commit: dict[str, list[tuple[str, Alias, datetime, str]]] = field(default_factory=dict)

    def add(
        self, commit: str, environment: str, deployer: Alias, when: datetime, source: str
    ) -> None:
        """Record one deploy."""
        self.by_commit.setdefault(commit, []).append((environment, deployer, when, source))

    def extend(self, requests: Iterable[DeployRequest]) -> None:
        """Add signed deploy records (from the evidence refs)."""
        for r in requests:
            self.add(r.commit, r.environment, r.deployer, r.time, "signed deploy record")

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_commit.values())


@dataclass
class LedgerRecords:
    """What the ledger holds about the audited ref."""

    url: str
    repository: str = ""
    entries: int = 0
    decisions: dict[str, RecordedDecision] = field(default_factory=dict)  # by new commit
    approvals: dict[str, list[Approval]] = field(default_factory=dict)  # by commit and tree
    deploys: Deploys = field(default_factory=Deploys)
    glass: Exceptions = field(default_factory=Exceptions)  # break-glass and its reviews
    skipped: int = 0  # entries that could not be read as records
    unverified: int = 0  # approval claims without evidence the audit could verify: not counted
    assurance: Assurance | None = None  # what verifying the ledger proved

    def verification(self) -> str:
        """For the sources line: what was verified, and which claims were not trusted."""
        text = "verified; " + self.assurance.summary() if self.assurance else "not verified"
        if self.unverified:
            text += (
                f"; {self.unverified} approval claim(s) without a verifiable signature ignored "
                "(an entry anyone who can append could write)"
            )
        return text


class GatewayTrust(Protocol):
    """The hook for forge reviews a gateway records: its signed statement, verified.

    A gateway will record a forge review as a statement signed by its own key; the policy
    names the gateway keys it trusts. Until then :data:`NO_GATEWAY` trusts none.
    """

    def approvals(self, body: dict[str, Any], index: int) -> list[Approval]:
        """The approvals the entry's gateway statement proves (empty: it proves none)."""
        ...


class _NoGateway:
    def approvals(self, body: dict[str, Any], index: int) -> list[Approval]:
        del body, index
        return []


NO_GATEWAY: GatewayTrust = _NoGateway()


def _decision(records: LedgerRecords, record: DecisionRecord, ref: str, when: datetime) -> None:
    if record.ref != ref or record.door not in GATE_DOORS:
        return
    earlier = records.decisions.get(record.new)
    if earlier is not None and earlier.verdict == "allow" and record.verdict != "allow":
        return  # a refused retry of an update that was allowed: the allowed one landed
    records.decisions[record.new] = RecordedDecision(
        record.verdict,
        alias_of(record.pusher),
        break_glass_reason(record.decision),
        when,
        record.old,
    )


def _approval(
    records: LedgerRecords,
    record: EvidenceRecord,
    body: dict[str, Any],
    index: int,
    trust: tuple[Policy | None, GatewayTrust],
) -> None:
    """Count an approval only with evidence verified here: a signed envelope or statement."""
    if record.envelope is None and record.object:
        return  # an evidence ref recorded by the hook: read from the refs themselves
    policy, gateway = trust
    found = _signed_approvals(record, index, policy) + gateway.approvals(body, index)
    if not found:
        records.unverified += 1  # a claim anyone who can append could write
        return
    for approval in found:
        if approval.repository != records.repository:
            records.skipped += 1
            continue
        records.approvals.setdefault(approval.commit, []).append(approval)
        if approval.tree and approval.tree != approval.commit:
            records.approvals.setdefault(approval.tree, []).append(approval)


def _signed_approvals(record: EvidenceRecord, index: int, policy: Policy | None) -> list[Approval]:
    """The approvals in the record's DSSE envelope, verified against the policy's keys."""
    if policy is None or record.envelope is None:
        return []
    try:
        items = verify_envelope(StoredEnvelope(record.envelope, f"ledger entry {index}"), policy)
    except EvidenceError:
        return []
    return [item for item in items if isinstance(item, Approval)]


def _deploy(records: LedgerRecords, record: DeployRecord, when: datetime) -> None:
    if not record.happened:
        return  # a refused deploy did not happen
    deployer = alias_of(record.deployer)
    if deployer is None:
        records.skipped += 1
        return
    records.deploys.add(record.commit, record.environment, deployer, when, "ledger deploy record")


def read_ledger(
    url: str,
    ref: str,
    repository: str,
    policy: Policy | None = None,
    *,
    key: str | None = None,
    gateway: GatewayTrust = NO_GATEWAY,
) -> LedgerRecords:
    """Read the verified ledger's decisions, signed approvals and deploys for ``ref``.

    The whole ledger is verified first, in the snapshot it is read from; one that does not
    verify is refused, never half-used (issue 14, hole 2).

    Args:
        url: the ledger.
        ref: the audited ref.
        repository: the audited repository's id.
        policy: whose keys verify the approvals entries carry (None: no approval counts).
        key: the ledger's public key file (default ``$TWOKEY_LEDGER_KEY``): checkpoints are
            then checked against it; without it the sources line says consistency only.
        gateway: which gateway statements are trusted (none until a gateway exists).

    Raises:
        UsageError: no ledger at ``url``.
        LedgerCorruptError: the ledger does not verify.
        InfrastructureError: the ledger cannot be opened or read.
    """
    records = LedgerRecords(url, repository=repository)
    entries = VerifiedEntries(url, key)
    for index, data in entries:
        _read_entry(records, index, data, ref, (policy, gateway))
    records.assurance = records.glass.assurance = entries.assurance
    return records


def _read_entry(
    records: LedgerRecords,
    index: int,
    data: bytes,
    ref: str,
    trust: tuple[Policy | None, GatewayTrust],
) -> None:
    """Read one entry through its typed record (the only way the audit reads the ledger)."""
    from twokey.ledger import (  # noqa: PLC0415
        DecisionRecord,
        DeployRecord,
        EvidenceRecord,
        parse_entry,
        read_record,
    )

    records.entries += 1
    try:
        entry = parse_entry(data)
        record = read_record(entry)
    except VerificationError:
        records.skipped += 1  # not canonical, or not its kind's record: listed, not trusted
        return
    if record is None or getattr(record, "repository", "") not in ("", records.repository):
        return
    if not isinstance(record, DecisionRecord) or record.ref == ref:
        try:
            records.glass.collect(index, data, entry)  # break-glass, reviews, what landed
        except VerificationError:
            records.glass.unreadable += 1
    if isinstance(record, DecisionRecord):
        _decision(records, record, ref, entry.time)
    elif isinstance(record, EvidenceRecord):
        _approval(records, record, entry.body, index, trust)
    elif isinstance(record, DeployRecord):
        _deploy(records, record, entry.time)
