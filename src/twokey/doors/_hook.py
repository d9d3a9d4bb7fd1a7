"""The pre-receive hook: judge every ref update of a push; reject the whole push on any deny.

githooks(5): git runs ``pre-receive`` once per push, after the objects arrived (in a quarantine
directory, visible through the hook's environment) and before any ref moves, with one
``<old> <new> <ref>`` line per update on standard input. A non-zero exit rejects every update.
Whatever the hook prints reaches the pusher as ``remote:`` lines.
"""

from __future__ import annotations

__all__ = ["HookOutcome", "push_options", "run_hook"]

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from twokey.doors._gate import Gate, Judgement, with_decisions
from twokey.doors._hookenv import hook_env
from twokey.doors._pipeline import exit_code, recorded_at
from twokey.doors._policy_source import NoPolicyError, trusted_policy
from twokey.doors._pusher import PusherVerdict, identify_pusher
from twokey.doors._receipts import ledger_receipts
from twokey.doors._record import ledger_entries
from twokey.doors._symrefs import through_symrefs
from twokey.doors._verdicts import door_deny
from twokey.errors import ExitCode, TwokeyError
from twokey.git import (
    EnvelopeSource,
    GitReader,
    RefTip,
    RefUpdate,
    RepositorySettings,
    parse_updates,
    repository_settings,
)
from twokey.model import Alias, Decision, FindingCode

if TYPE_CHECKING:
    from twokey.ledger import Entry
    from twokey.policy import Policy

BREAK_GLASS_OPTION = "twokey.break-glass"


@dataclass(frozen=True)
class HookOutcome:
    """What the hook decided: one judgement per update, and the exit code git sees."""

    judgements: tuple[Judgement, ...]
    exit_code: int
    ledger_indices: tuple[int, ...] = ()

    @property
    def allowed(self) -> bool:
        """True when every update is allowed (the push goes through)."""
        return self.exit_code == ExitCode.ALLOW


def push_options(env: Mapping[str, str]) -> dict[str, str]:
    """``git push -o key=value`` options (git-receive-pack(1), ``GIT_PUSH_OPTION_<i>``)."""
    try:
        count = int(env.get("GIT_PUSH_OPTION_COUNT", "0"))
    except ValueError:
        count = 0
    options: dict[str, str] = {}
    for i in range(count):
        key, _, value = env.get(f"GIT_PUSH_OPTION_{i}", "").partition("=")
        options[key.strip()] = value.strip()
    return options


def run_hook(
    git_dir: Path,
    stdin: str,
    env: Mapping[str, str],
    now: datetime,
    *,
    start_early: bool = False,
) -> HookOutcome:
    """Judge a push. Never raises for a bad push: every problem is a deny with its reason.

    Steps: (1) parse the updates, each renamed to the ref it really moves (through a
    server-side symbolic ref); (2) read the trusted policy from the default branch as it is
    before the push (or the bootstrap policy); (3) judge each update, evidence refs created by
    this push visible to the others; (4) append every decision to the ledger, if one is
    configured, before answering; a ledger failure denies everything.

    ``start_early``: this process judges this one push only (``hook_main`` of the installed
    hook, never the warm server's threads), so the gate may start git early (ADR 0037).
    """
    env = hook_env(env)  # configuration only from the repository's git config (ADR 0013)
    reader = GitReader(git_dir, env)
    updates = parse_updates(stdin)  # step 1
    settings = repository_settings(reader.git, {})
    try:  # judged as the refs that move; the default branch too, if HEAD names a symref
        updates, default_ref = through_symrefs(reader.git, updates, reader.head_ref())
    except TwokeyError as exc:
        return _all_denied(updates, exc, FindingCode.INTERNAL_ERROR)
    pending = [RefTip(u.ref, u.new) for u in updates if u.is_evidence and u.is_creation]
    envelopes = EnvelopeSource(reader, pending)
    overload = _too_much_evidence(updates, envelopes, settings)  # before any envelope is read
    if overload:
        return _refused(updates, FindingCode.MALFORMED_INPUT, *overload)
    try:
        trusted = trusted_policy(reader, default_ref)  # step 2
    except TwokeyError as exc:
        return _all_denied(updates, exc)
    policy = trusted.policy
    who = _pusher(reader, env, policy, now)
    if who.problem:
        code = FindingCode.PUSHER_MISMATCH if who.mismatch else FindingCode.PUSH_CERT_REFUSED
        hint = "push again without --signed, or sign with your own key for this push"
        return _refused(updates, code, who.problem, hint, policy.digest)
    pusher = who.pusher
    gate = Gate(
        reader=reader,
        trusted=trusted,
        repository=settings.repository,
        now=now,
        envelopes=envelopes,
        pusher=pusher,
        break_glass=push_options(env).get(BREAK_GLASS_OPTION),
        default_ref=default_ref,
        receipts=partial(ledger_receipts, settings.ledger) if settings.ledger else None,
        start_early=start_early,
    )
    judgements = tuple(gate.judge(u) for u in updates)  # step 3
    entries = _entries(judgements, settings.repository, pusher, now) if settings.ledger else []
    decisions, indices = recorded_at(  # step 4: the pipeline every door records through
        [j.decision for j in judgements],
        entries,
        settings.ledger,
        settings.ledger_key,
        hint="nothing was allowed; ask the repository's admins",
    )
    judgements = with_decisions(judgements, decisions)
    return HookOutcome(judgements, exit_code(decisions), indices)


def _too_much_evidence(
    updates: Sequence[RefUpdate], envelopes: EnvelopeSource, settings: RepositorySettings
) -> tuple[str, str] | None:
    """``(why, what would satisfy it)`` when the push updates more refs under
    ``refs/twokey/`` than ``twokey.maxPushEvidence`` allows, or its new evidence holds more
    bytes of envelopes than ``twokey.maxPushEvidenceBytes`` (ADR 0041); else None.

    Counted from git's input, then sized by ``git cat-file --batch-check``: nothing is read
    into memory before both hold, so one push cannot take the server's memory (invariant 8).
    """
    count = sum(1 for u in updates if u.is_evidence)
    if count > settings.max_push_evidence:
        limit = settings.max_push_evidence
        return (
            f"evidence refused: the push updates {count} refs under refs/twokey/; one push may "
            f"update at most {limit} (git config twokey.maxPushEvidence)",
            f"push the evidence in several pushes of at most {limit} refs each, or ask the "
            "server's admin to raise git config twokey.maxPushEvidence",
        )
    size = envelopes.pending_bytes() if envelopes.pending else 0
    if size > settings.max_push_evidence_bytes:
        limit = settings.max_push_evidence_bytes
        return (
            f"evidence refused: the push brings {size} bytes of evidence envelopes; one push "
            f"may bring at most {limit} (git config twokey.maxPushEvidenceBytes)",
            "push the evidence in several smaller pushes, or ask the server's admin to raise "
            "git config twokey.maxPushEvidenceBytes",
        )
    return None


def _entries(
    judgements: Sequence[Judgement], repository: str, pusher: Alias | None, now: datetime
) -> list[Entry]:
    """The push's ledger entries; git stores nothing of a rejected push, so then no evidence
    entry for refs that never exist."""
    entries = ledger_entries(
        judgements, door="git-hook", repository=repository, pusher=pusher, now=now
    )
    if exit_code([j.decision for j in judgements]) != ExitCode.ALLOW:
        entries = [e for e in entries if e.kind.value != "evidence"]
    return entries


def _pusher(
    reader: GitReader, env: Mapping[str, str], policy: Policy, now: datetime
) -> PusherVerdict:
    """The pusher (``_pusher``), with a signed push's certificate verified (``_pushcert``)."""
    if not env.get("GIT_PUSH_CERT"):
        return identify_pusher(env, policy)
    from twokey.doors._pushcert import certificate_ledger, check_push_certificate  # noqa: PLC0415
    from twokey.doors._signers import refresh_allowed_signers  # noqa: PLC0415

    refresh_allowed_signers(reader.git.git_dir, policy)  # git's courtesy verdict, next push

    def read(blob: str) -> bytes | None:
        result = reader.git.call(["cat-file", "blob", blob], ok=(0, 128))
        return result.out if result.code == 0 else None

    once = certificate_ledger(reader.git.git_dir)
    return identify_pusher(env, policy, check_push_certificate(env, read, policy, now, once))


def _refused(
    updates: Sequence[RefUpdate], code: FindingCode, message: str, hint: str, digest: str = ""
) -> HookOutcome:
    judgements = tuple(
        Judgement(u, door_deny(u.subject, code, message, hint, digest)) for u in updates
    )
    return HookOutcome(judgements, ExitCode.DENY)


def _all_denied(
    updates: Sequence[RefUpdate], exc: TwokeyError, code: FindingCode | None = None
) -> HookOutcome:
    if code is None:
        code = FindingCode.MALFORMED_INPUT
    hint = exc.hint or "nothing was allowed; ask the repository's admins"
    if isinstance(exc, NoPolicyError):
        hint = exc.hint
    judgements = tuple(Judgement(u, _deny(u, code, exc.message, hint)) for u in updates)
    return HookOutcome(judgements, ExitCode.DENY)


def _deny(update: RefUpdate, code: FindingCode, message: str, hint: str) -> Decision:
    return door_deny(update.subject, code, message, hint)
