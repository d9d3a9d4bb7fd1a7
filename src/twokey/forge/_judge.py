"""Judging a pull/merge request with the hook's gate, as if its head landed on the base now.

The gateway keeps a bare mirror of each forge repository (``Mirror``), fetched before a
delivery is handled. For a request whose base is ``refs/heads/main``:

1. the base's tip and the trusted policy are the mirror's own (``remote_refs(.)``,
   ``policy_at``): the policy of the base branch as the repository has it, never the head's;
2. the forge reviews become approvals (``forge_approvals``: bots, the author and the last
   pusher refused; each approval names the exact commit reviewed);
3. the gate judges ``main: base tip -> head`` with those approvals (an approval of an older
   head binds to what landing it gives, so new content makes it stale), the last pusher as
   the pusher, and only the base as already reviewed;
4. the decision is appended to the ledger before the status is published (invariant 9); a
   ledger that cannot be written turns it into a deny (``INTERNAL_ERROR``).
"""

from __future__ import annotations

__all__ = ["Mirror", "Verdict", "judge_change"]

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from twokey.doors import (
    Gate,
    Judgement,
    door_deny,
    ledger_entries,
    policy_at,
    recorded,
    remote_refs,
)
from twokey.errors import TwokeyError
from twokey.forge._actions import CommitStatus, summary
from twokey.forge._approvals import forge_approvals
from twokey.forge._events import Login
from twokey.forge._store import ChangeState, ForgeReview
from twokey.forge._webhooks import GITHUB
from twokey.git import EnvelopeSource, GitReader, RefUpdate
from twokey.model import ZERO_SHA, Alias, Decision, FindingCode

DOOR = "forge-pull-request"


@dataclass(frozen=True)
class Mirror:
    """The gateway's bare mirror of one forge repository, and the repository id approvals name
    (the policy's and the ledger's name for it)."""

    git_dir: Path
    repository: str


@dataclass(frozen=True)
class Verdict:
    """The recorded decision on a pull/merge request and the status that publishes it."""

    decision: Decision
    status: CommitStatus


def judge_change(
    mirror: Mirror,
    change: ChangeState,
    reviews: list[ForgeReview],
    now: datetime,
    ledger: str,
    gateway_url: str,
    key: str | None = None,
) -> Verdict:
    """Steps 1-4 of the module docstring."""
    reader = GitReader(mirror.git_dir)
    judgement = _judge(reader, mirror, change, reviews, now)
    pusher = _login(change, change.pusher)
    entries = (
        ledger_entries([judgement], door=DOOR, repository=mirror.repository, pusher=pusher, now=now)
        if ledger
        else []
    )
    decision = recorded([judgement.decision], entries, ledger, key)[0]  # step 4
    target = f"{gateway_url.rstrip('/')}/changes/{change.forge}/{change.repository}/{change.number}"
    state = "success" if decision.allowed else _failed(decision)
    status = CommitStatus(
        change.forge, change.repository, change.head, state, summary(decision), target
    )
    return Verdict(decision, status)


def _judge(
    reader: GitReader,
    mirror: Mirror,
    change: ChangeState,
    reviews: list[ForgeReview],
    now: datetime,
) -> Judgement:
    """Steps 1-3; what cannot be read (no base, no policy, no head) is a deny with the reason."""
    subject = f"{change.base_ref} <- {change.forge} #{change.number} @ {change.head[:12]}"
    try:
        refs = remote_refs(reader, ".")  # step 1: the mirror is the server
        old = refs.tip(change.base_ref)
        update = RefUpdate(change.base_ref, old, change.head)
        if reader.resolve(f"{change.head}^{{commit}}") is None:
            raise _missing(change.head)
        trusted = policy_at(reader, refs, change.base_ref)
    except TwokeyError as exc:
        update = RefUpdate(change.base_ref, ZERO_SHA, change.head)
        hint = exc.hint or "fetch the forge repository into the gateway's mirror"
        deny = door_deny(subject, FindingCode.INTERNAL_ERROR, exc.message, hint)
        return Judgement(update, deny)
    policy = trusted.policy
    approvals, refused = forge_approvals(reviews, change, policy, reader, mirror.repository)
    gate = Gate(  # step 3
        reader=reader,
        trusted=trusted,
        repository=mirror.repository,
        now=now,
        envelopes=EnvelopeSource(reader),
        pusher=_login(change, change.pusher),
        default_ref=refs.head,
        reviewed_only=old,
        recorded=(approvals, refused),
    )
    return gate.judge(update)


def _missing(head: str) -> TwokeyError:
    return TwokeyError(
        f"the head {head[:12]} is not in the gateway's mirror",
        hint="the mirror fetches pull request heads (refs/pull/*/head, refs/merge-requests/*/head)",
    )


def _login(change: ChangeState, login: str) -> Alias | None:
    return (
        Login(change.forge if change.forge == GITHUB else "gitlab", login).alias if login else None
    )


def _failed(decision: Decision) -> str:
    internal = any(f.code is FindingCode.INTERNAL_ERROR for f in decision.findings)
    return "error" if internal else "failure"
