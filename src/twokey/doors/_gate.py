"""Judging ref updates: facts from git, evidence from refs and files, the one engine.

Shared by the pre-receive hook and ``twokey check``, so the two doors cannot disagree.
"""

from __future__ import annotations

__all__ = ["Gate", "Judgement", "with_decisions"]

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from twokey.doors._policy_source import POLICY_PATH, TrustedPolicy, load_blob
from twokey.doors._verdicts import add_finding, door_allow, door_deny
from twokey.errors import TwokeyError
from twokey.git import (
    EnvelopeSource,
    GitReader,
    RawEnvelope,
    RefUpdate,
    claimed_approvals,
    landing_heads,
)
from twokey.model import (
    ZERO_SHA,
    Alias,
    Approval,
    BreakGlass,
    Change,
    Decision,
    Finding,
    FindingCode,
    Landing,
    RefUpdateFacts,
    Severity,
)

if TYPE_CHECKING:
    from twokey.evidence import VerifiedEvidence
    from twokey.policy import Policy, RefRule


def _signed_commits(policy: Policy, ref: str) -> bool:
    """The rule asks for signed commits (ADR 0012): the hook then reads signatures too."""
    rule = policy.ref_rule(ref)
    return rule is not None and rule.signed_commits


@dataclass(frozen=True)
class Judgement:
    """One ref update, its decision, and the evidence ids the decision used."""

    update: RefUpdate
    decision: Decision
    evidence: tuple[str, ...] = ()
    change: Change | None = None


def with_decisions(
    judgements: Sequence[Judgement], decisions: Sequence[Decision]
) -> tuple[Judgement, ...]:
    """``judgements`` with the decisions that stand once recorded (a deny where recording
    failed: then nothing of the judgement but its update is kept)."""
    return tuple(
        j if d is j.decision else Judgement(j.update, d)
        for j, d in zip(judgements, decisions, strict=True)
    )


@dataclass
class Gate:
    """Judges ref updates of one repository against one trusted policy.

    Args:
        reader: facts from git.
        trusted: the trusted policy (from the default branch or the base, never the push).
        repository: the repository id approvals must name.
        now: the decision time (the door reads the clock, the engine never does).
        pusher: who pushes, as the transport proved it (see ``_pusher``).
        break_glass: a break-glass reason asked for with the push, if any.
        envelopes: where evidence envelopes come from.
        files: extra envelopes (``twokey check --evidence``).
        default_ref: the branch whose policy file is the trusted policy.
        signatures: read commit signatures into the facts (``twokey check`` does; the hook
            does only for refs whose rule has ``signed_commits``, to stay fast).
        receipts: when the gate first received evidence refs (the ledger's ``evidence``
            entries), for evidence whose key is not valid now or has a valid_after (ADR 0013).
        reviewed_only: when set, the only commit whose history counts as already reviewed
            (``twokey check``: the base the job names; ``ZERO_SHA``: none). A CI clone's other
            refs are whatever an ungated remote holds (a PR author's tag), never trusted.
        recorded: approvals a door recorded itself (trust ``forge``: reviews that arrived over
            an authenticated webhook), with the ones it refused as (who, reason) pairs.
        start_early: the reader is this process's alone, whose owner discards what is left
            (the installed hook's process): a change's git reads start together, and the
            evidence verifier is imported while they run (ADR 0037).
    """

    reader: GitReader
    trusted: TrustedPolicy
    repository: str
    now: datetime
    envelopes: EnvelopeSource
    pusher: Alias | None = None
    break_glass: str | None = None
    files: Sequence[RawEnvelope] = ()
    default_ref: str = ""
    signatures: bool = False
    receipts: Callable[[Sequence[str]], Mapping[str, datetime]] | None = None
    reviewed_only: str | None = None
    recorded: tuple[Sequence[Approval], Sequence[tuple[str, str]]] = ((), ())
    start_early: bool = False
    _protected: list[tuple[str, str, RefRule]] | None = field(default=None, init=False)

    def judge(self, update: RefUpdate) -> Judgement:
        """The decision for one update; git failures become a deny with the reason."""
        try:
            if update.is_evidence:
                return Judgement(update, self._evidence_ref(update))
            return self._judge(update)
        except TwokeyError as exc:
            return Judgement(
                update,
                door_deny(
                    update.subject,
                    FindingCode.INTERNAL_ERROR,
                    f"cannot judge this update: {exc.message}",
                    exc.hint or "fix the repository or the evidence, then push again",
                    self.trusted.policy.digest,
                ),
            )

    def _judge(self, update: RefUpdate) -> Judgement:
        from twokey.engine import evaluate_safely  # noqa: PLC0415 - lazy: hook start-up time

        policy = self.trusted.policy
        # Unprotected refs need no history, except the branch that carries the policy: a
        # change to the policy file is judged wherever it lands (invariant 7).
        if policy.ref_rule(update.ref) is None and update.ref != self.default_ref:
            change = Change(self.repository, update.ref, update.old, update.new, pusher=self.pusher)
            facts = RefUpdateFacts(change)
            return Judgement(update, evaluate_safely(policy, facts, self.now), (), change)
        reviewed = self._already_reviewed(update)
        if self.start_early:
            self.reader.start_change(update.old, update.new, reviewed)
            from twokey.evidence import verify_envelopes  # noqa: F401, PLC0415 - while git reads
        change = self.reader.change(
            update.ref,
            update.old,
            update.new,
            repository=self.repository,
            pusher=self.pusher,
            exclude=reviewed,
            signatures=self.signatures or _signed_commits(policy, update.ref),
        )
        verified = self._verified(change)
        forge, refused = self.recorded
        approvals = (
            *verified.approvals,
            *self._claims(change, policy.ref_rule(update.ref)),
            *forge,
        )
        landings = self._landings(change, approvals, reviewed)
        if landings:
            change = self.reader.old_tree(change)
        facts = RefUpdateFacts(
            change,
            approvals=approvals,
            checks=tuple(verified.checks),
            rejected=(*verified.rejected, *refused),
            break_glass=self._glass(),
            landings=landings,
        )
        decision = evaluate_safely(policy, facts, self.now)
        for finding in self._door_findings(change):
            decision = add_finding(decision, finding)
        used = {a.evidence_id for a in (*verified.approvals, *forge)}
        used |= {c.evidence_id for c in verified.checks}
        return Judgement(update, decision, tuple(sorted(u for u in used if u)), change)

    def _already_reviewed(self, update: RefUpdate) -> list[str]:
        """Tips whose history is already reviewed for ``update``, so left out of its change.

        Only tips of other protected refs whose rule is at least as strict as this ref's
        (ADR 0011): a commit parked on a weaker ref (``sandbox/**``, ``approvals: 0``) stays
        part of the change, with its authors excluded (issue 15, item 3). The one place that
        decides it, for the hook and ``twokey check`` alike.
        """
        from twokey.engine import at_least_as_strict  # noqa: PLC0415 - lazy: hook start-up

        if self.reviewed_only is not None:  # twokey check: only the base the job names
            return [] if self.reviewed_only == ZERO_SHA else [self.reviewed_only]

        rule = self.trusted.policy.ref_rule(update.ref)
        return [
            sha
            for ref, sha, other in self._protected_tips()
            if ref != update.ref and (rule is None or at_least_as_strict(other, rule))
        ]

    def _protected_tips(self) -> list[tuple[str, str, RefRule]]:
        if self._protected is None:
            policy = self.trusted.policy
            tips = self.reader.refs("refs/heads/", "refs/tags/")
            found = ((t, policy.ref_rule(t.ref)) for t in tips)
            self._protected = [(t.ref, t.sha, rule) for t, rule in found if rule is not None]
        return self._protected

    def _claims(self, change: Change, rule: RefRule | None) -> list[Approval]:
        """Review trailers of the change's commits, and the committers who applied others'
        patches where the ref's rule counts that, as the audit reads them (item 17).

        Trust level ``trailer``: they count only where the rule's ``accept`` lists it.
        """
        applied = rule is not None and rule.counts_applied
        out: list[Approval] = []
        for commit in change.commits:
            if commit.trailers or applied:
                when = commit.committer.time or self.now
                out += claimed_approvals(commit, self.repository, change.ref, when, applied=applied)
        return out

    def _landings(
        self, change: Change, approvals: Sequence[Approval], reviewed: Sequence[str]
    ) -> tuple[Landing, ...]:
        """What landing each approved head (other than the new tip) on the old tip gives."""
        heads = landing_heads(change, approvals)
        if not heads:
            return ()
        known = {c.sha: c.tree for c in change.commits}
        found = self.reader.landings(
            change.old, heads, known, new_tree=change.new_tree, reviewed=reviewed
        )
        return tuple(found)

    def _verified(self, change: Change) -> VerifiedEvidence:
        from twokey.evidence import StoredEnvelope, verify_envelopes  # noqa: PLC0415

        commits = {c.sha for c in change.commits} | {change.new}
        head = change.head
        if head is not None:
            commits |= set(head.parents[1:])
        trees = {c.tree for c in change.commits} | {change.new_tree}
        # Evidence is filed under the commit or the tree it is about (twokey.evidence.ref_for).
        raw = self.envelopes.for_change(commits | trees, trees) + list(self.files)
        stored = [StoredEnvelope(r.data, r.source, r.size) for r in raw]
        bound = {c.sha: c.tree for c in change.commits}
        # Keys are judged when the gate received the evidence: now, or earlier by the ledger.
        verified = verify_envelopes(stored, self.trusted.policy, commit_trees=bound, at=self.now)
        # The ledger is asked only about keys whose window matters: expired now, or valid only
        # from some date on (evidence received before that date must not count).
        validity = self.trusted.policy.key_validity
        asked = {src for src, why in verified.rejected if why.startswith("KEY_EXPIRED")}
        signed: list[tuple[str, Alias]] = [(a.source, a.signer) for a in verified.approvals]
        signed += [(c.source, c.signer) for c in verified.checks]
        asked |= {
            source
            for source, signer in signed
            if (window := validity.get(signer)) is not None and window.valid_after is not None
        }
        if not asked or self.receipts is None:
            return verified
        times = self.receipts(sorted(asked))
        received = {e.digest: times[e.source] for e in stored if e.source in times}
        return verify_envelopes(
            stored, self.trusted.policy, commit_trees=bound, at=self.now, received=received
        )

    def _glass(self) -> BreakGlass | None:
        if self.break_glass is None or self.pusher is None:
            return None
        return BreakGlass(self.pusher, self.break_glass, self.now)

    def _door_findings(self, change: Change) -> list[Finding]:
        found = []
        if self.break_glass is not None and self.pusher is None:
            found.append(
                Finding(
                    FindingCode.BREAK_GLASS_DENIED,
                    Severity.DENY,
                    "break-glass refused: the transport did not identify the pusher",
                    "push over an authenticated transport that sets TWOKEY_PUSHER or REMOTE_USER, "
                    "or sign the push (git push --signed)",
                )
            )
        if change.ref == self.default_ref and POLICY_PATH in change.paths:
            found += self._new_policy_problems(change)
        return found

    def _new_policy_problems(self, change: Change) -> list[Finding]:
        """A policy change must leave a valid policy behind, or the branch locks up."""
        from twokey.policy import PolicyError  # noqa: PLC0415

        found = self.reader.blob_at(change.new, POLICY_PATH)
        if found is None:
            problem = f"the push deletes {POLICY_PATH} from {change.ref}"
        else:
            try:
                load_blob(
                    self.reader.git.git_dir, found[0], found[1], f"{change.new[:7]}:{POLICY_PATH}"
                )
                return []
            except PolicyError as exc:
                problem = f"the new policy is invalid: {exc.message}"
        return [
            Finding(
                FindingCode.MALFORMED_INPUT,
                Severity.DENY,
                problem,
                f"push a valid policy (check it with: twokey policy check {POLICY_PATH})",
                commits=(change.new,),
            )
        ]

    def _evidence_ref(self, update: RefUpdate) -> Decision:
        """Evidence is append-only: refs under refs/twokey/ may be created, never moved.

        A creation must hold well-formed evidence (``EnvelopeSource.refusal``): whatever is
        stored here is read by every later push, so nothing malformed gets in (invariant 8).
        """
        subject = update.subject
        digest = self.trusted.policy.digest
        if update.new == ZERO_SHA:
            return door_deny(
                subject,
                FindingCode.REF_DELETION,
                f"{update.ref} is evidence and may not be deleted (evidence is append-only)",
                "leave evidence in place; add new evidence instead",
                digest,
            )
        if not update.is_creation:
            return door_deny(
                subject,
                FindingCode.FORCE_PUSH,
                f"{update.ref} is evidence and may not be overwritten (evidence is append-only)",
                "push the new evidence under a new ref name (its digest)",
                digest,
            )
        problem = self.envelopes.refusal(update.ref, update.new)
        if problem:
            return door_deny(
                subject,
                FindingCode.MALFORMED_INPUT,
                f"evidence refused: {problem}",
                "push evidence written by twokey (twokey approve / attest), under the ref it "
                "names (twokey.evidence.ref_for)",
                digest,
            )
        return door_allow(subject, f"{update.ref}: new evidence (append-only)", digest)
