"""``twokey check``: judge one ref update in any CI, with the hook's gate.

The policy comes from the base (the target branch as it is), never from the head, so a pull
request cannot loosen its own policy; ``--policy FILE`` overrides that explicitly. Evidence comes
from ``refs/twokey/*`` (fetched by the user: ``git fetch origin 'refs/twokey/*:refs/twokey/*'``)
and from envelope files.
"""

from __future__ import annotations

__all__ = ["CheckRequest", "read_evidence_files", "run_check"]

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from twokey._evidence_refs import MAX_ENVELOPE_BYTES
from twokey.doors._formats._report import Report
from twokey.doors._gate import Gate, Judgement, with_decisions
from twokey.doors._install import resolve_git_dir
from twokey.doors._pipeline import recorded
from twokey.doors._policy_source import TrustedPolicy, trusted_policy
from twokey.doors._record import ledger_entries
from twokey.doors._verdicts import door_deny
from twokey.errors import InfrastructureError, TwokeyError, UsageError
from twokey.git import (
    EnvelopeSource,
    GitReader,
    RawEnvelope,
    RefUpdate,
    RepositorySettings,
    repository_settings,
)
from twokey.model import ZERO_SHA, Alias, FindingCode


@dataclass(frozen=True)
class CheckRequest:
    """What to check: ``ref`` moving from ``old`` to ``new`` (revisions, resolved here).

    ``policy_rev`` is the revision whose ``.twokey/policy.yml`` is trusted (the base);
    ``policy_file`` overrides it. ``repository`` overrides the repository id.
    """

    repo: Path
    ref: str
    old: str
    new: str
    policy_rev: str = ""
    policy_file: Path | None = None
    evidence: tuple[Path, ...] = ()
    repository: str = ""
    pusher: Alias | None = None
    ledger: str = ""  # where the decision is recorded ("" : TWOKEY_LEDGER, git config, or none)


def run_check(request: CheckRequest, env: Mapping[str, str], now: datetime) -> Report:
    """Judge the update. A missing or invalid policy at the base is a deny, not an error.

    Raises:
        UsageError: a revision or an evidence file cannot be read.
        PolicyError: the ``--policy`` file is invalid.
        InfrastructureError: a shallow or partial clone, or git failed.
    """
    reader = GitReader(resolve_git_dir(request.repo), env)
    _require_full_history(reader)
    old = _base(reader, request.old)
    new = _rev(reader, request.new)
    request = replace(request, ref=request.ref or _inferred_ref(reader, request.old))
    update = _update(request.ref, old, new)
    settings = repository_settings(reader.git, env)
    repository = request.repository or settings.repository
    try:
        trusted = _policy(reader, request, old)
    except TwokeyError as exc:
        if request.policy_file is not None:
            raise
        decision = door_deny(
            update.subject, FindingCode.MALFORMED_INPUT, exc.message, exc.hint or "fix the policy"
        )
        report = Report((Judgement(update, decision),), repository, "")
        return _recorded(report, request.pusher, request.ledger or settings.ledger, now, settings)
    gate = Gate(
        reader=reader,
        trusted=trusted,
        repository=repository,
        now=now,
        envelopes=EnvelopeSource(reader),
        pusher=request.pusher,
        files=read_evidence_files(request.evidence),
        default_ref=request.ref,
        signatures=True,
        reviewed_only=old,  # only the base the job names is reviewed (not the clone's refs)
    )
    report = Report((gate.judge(update),), repository, trusted.origin)
    return _recorded(report, request.pusher, request.ledger or settings.ledger, now, settings)


def _recorded(
    report: Report,
    pusher: Alias | None,
    ledger: str,
    now: datetime,
    settings: RepositorySettings,
) -> Report:
    """The report, once its decisions are in the ledger (invariant 9); a deny if they cannot be.

    Without a ledger nothing is recorded (a check in CI is advice; the gate records). A
    checkpoint is signed after the batch with ``twokey.ledgerKey`` or
    ``$TWOKEY_LEDGER_SIGNING_KEY`` (ADR 0015). Through the pipeline every door records with.
    """
    if not ledger:
        return report
    entries = ledger_entries(
        report.judgements, door="ci-check", repository=report.repository, pusher=pusher, now=now
    )
    decisions = recorded(
        [j.decision for j in report.judgements], entries, ledger, settings.ledger_key or None
    )
    judgements = with_decisions(report.judgements, decisions)
    return Report(judgements, report.repository, report.policy_origin)


def _require_full_history(reader: GitReader) -> None:
    if reader.is_shallow():
        raise InfrastructureError(
            "this is a shallow clone: the commits of the change cannot all be read",
            hint="fetch the full history (actions/checkout: fetch-depth: 0; "
            "or git fetch --unshallow)",
        )
    # A partial clone marks its promisor remote (git 2.39: remote.<name>.promisor) and, with
    # repository format 1, extensions.partialClone (gitrepository-layout(5), partial-clone docs).
    partial = reader.git.call(
        ["config", "--get-regexp", r"^(extensions\.partialclone|remote\..*\.promisor)$"],
        ok=(0, 1),
    )
    if any(
        line.split(" ", 1)[-1].strip() not in ("", "false")
        for line in partial.out.decode(errors="replace").splitlines()
    ):
        raise InfrastructureError(
            "this is a partial clone: objects the decision needs may be missing",
            hint="clone without --filter (twokey never judges content it cannot read)",
        )


def _rev(reader: GitReader, rev: str) -> str:
    if rev in ("", ZERO_SHA):
        return ZERO_SHA
    sha = reader.resolve(rev)
    if sha is None:
        raise UsageError(f"unknown revision {rev!r}", hint="fetch it first (git fetch origin)")
    return sha


def _tracking(reader: GitReader, rev: str) -> tuple[str, str] | None:
    """``(remote, branch)`` when ``rev`` names a remote-tracking branch (``origin/main``)."""
    if not rev or rev == ZERO_SHA:
        return None
    result = reader.git.call(["rev-parse", "--symbolic-full-name", rev], ok=(0, 128))
    full = result.out.decode(errors="replace").strip() if result.code == 0 else ""
    if not full.startswith("refs/remotes/") or full.count("/") < 3 or full.endswith("/HEAD"):
        return None
    _, _, remote, branch = full.split("/", 3)
    return remote, branch


def _base(reader: GitReader, rev: str) -> str:
    """The base commit; a remote-tracking base as the remote has it *now*.

    ``origin/main`` in a CI clone is a ref any earlier step of the job can move (to the pull
    request's head, making its change empty); the remote's own ``refs/heads/main`` is what the
    job means. Fetched when the clone lacks it (the target branch moved on since checkout).

    Raises:
        UsageError: the remote has no such branch.
        InfrastructureError: the remote cannot be asked (fail closed).
    """
    tracking = _tracking(reader, rev)
    if tracking is None:
        return _rev(reader, rev)
    remote, branch = tracking
    ref = f"refs/heads/{branch}"
    out = reader.git.text("ls-remote", "--end-of-options", remote, ref)
    tip = next((line.split("\t")[0] for line in out.splitlines() if line.endswith(f"\t{ref}")), "")
    if not tip:
        raise UsageError(f"the remote {remote!r} has no {ref} (the base {rev!r})")
    if reader.resolve(f"{tip}^{{commit}}") is None:
        reader.git.call(["fetch", "-q", "--no-tags", "--no-write-fetch-head", remote, ref])
    return tip


def _inferred_ref(reader: GitReader, base: str) -> str:
    """The branch a remote-tracking base names: ``origin/main`` -> ``refs/heads/main``, so the
    README's CI example needs no --ref.

    Raises:
        UsageError: the base is no remote-tracking branch (a local branch, a commit, a tag).
    """
    tracking = _tracking(reader, base)
    if tracking is not None:
        return f"refs/heads/{tracking[1]}"
    raise UsageError(
        f"name the ref that would move: --ref refs/heads/main ({base or 'the base'!r} is no "
        "remote-tracking branch to infer it from)"
    )


def _update(ref: str, old: str, new: str) -> RefUpdate:
    try:
        return RefUpdate(ref, old, new)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def _policy(reader: GitReader, request: CheckRequest, old: str) -> TrustedPolicy:
    if request.policy_file is not None:
        from twokey.policy import load  # noqa: PLC0415

        return TrustedPolicy(load(request.policy_file), str(request.policy_file), "")
    base = _base(reader, request.policy_rev) if request.policy_rev else old
    if base == ZERO_SHA:
        raise UsageError("the ref is created: name the policy's revision with --policy-from")
    return trusted_policy(reader, base, cached=False)  # a clone's .git: never a cache


def read_evidence_files(paths: Sequence[Path]) -> tuple[RawEnvelope, ...]:
    """Envelope files; for a directory, every file below it (sorted).

    Raises:
        UsageError: a path cannot be read.
    """
    found: list[RawEnvelope] = []
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            try:
                if file.stat().st_size > MAX_ENVELOPE_BYTES:
                    raise UsageError(f"{file} is larger than {MAX_ENVELOPE_BYTES} bytes")
                found.append(RawEnvelope(file.read_bytes(), str(file)))
            except OSError as exc:
                raise UsageError(f"cannot read evidence {file}: {exc.strerror}") from exc
    return tuple(found)
