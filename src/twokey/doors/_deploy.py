"""The deploy door: may this artifact go to this environment now? (invariant 5)

Gathers, for one deploy request: the trusted policy (the environment's ``from`` ref as the
remote has it), the refs of the remote that hold the commit, the release (every commit since the
environment's last deploy recorded in the ledger), and the signed evidence (provenance, deploy
approvals, the release's approvals, checks), verified against the trusted policy and bound to
this repository. The pipeline then decides, records a ``deploy`` entry and answers.
"""

from __future__ import annotations

__all__ = ["DeployCheck", "DeployDoor", "parse_identity", "run_deploy_check"]

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from twokey.doors._pipeline import Gathered, decide
from twokey.doors._policy_source import TrustedPolicy
from twokey.doors._release import recorded_deploys, release_base
from twokey.doors._trusted import (
    GitObject,
    RemoteRefs,
    fetched,
    is_literal,
    policy_at,
    policy_name,
    read_objects,
    remote_refs,
    start_objects,
)
from twokey.errors import InfrastructureError, UsageError
from twokey.git import GitReader
from twokey.model import (
    Alias,
    Approval,
    BreakGlass,
    Decision,
    DeployApproval,
    DeployFacts,
    DeployRequest,
)

if TYPE_CHECKING:
    from twokey.evidence import VerifiedEvidence
    from twokey.ledger import Entry
    from twokey.model import Commit
    from twokey.policy import Policy


@dataclass(frozen=True)
class DeployCheck:
    """One deploy request, as the deploy job states it (revisions resolved by the door).

    ``ledger`` is where deploys are recorded and read: None for the configured one
    (``$TWOKEY_LEDGER``, then git config ``twokey.ledger``), "" for none (then the release
    starts at the root and nothing is recorded). ``remote`` is where the protected branches
    live (``.`` only on the server itself). ``policy_file`` overrides the trusted policy.
    ``now`` is the clock of whoever runs the door (None: the system clock); ``simulate_at`` is
    a time the *request* asks for (``--now``), refused whenever a ledger records the decision.
    """

    repo: Path
    environment: str
    artifact: str
    commit: str
    deployer: str
    now: datetime | None = None
    simulate_at: datetime | None = None
    requester: str = ""
    since: str = ""
    break_glass: str = ""
    ledger: str | None = None
    remote: str = "origin"
    policy_file: Path | None = None
    repository: str = ""  # "" : git config twokey.repository, else the origin URL


def run_deploy_check(request: DeployCheck, *, git_dir: Path | None = None) -> tuple[Decision, str]:
    """The decision (recorded when there is a ledger) and the policy's origin.

    ``git_dir``: the repository, when the caller found it and started the door's first reads
    there (``start_first_reads``, before it imported this module); None: found here.

    Raises:
        UsageError: a revision, an identity or ``--since`` is wrong; the remote lacks a ref.
        ConfigError: the trusted policy is missing or invalid.
        InfrastructureError: git, the remote or the ledger failed.
    """
    from twokey.git import repository_settings, start_first_reads  # noqa: PLC0415

    # The remote answers while git config reads (and, from the CLI, while Python imports).
    reader = GitReader(git_dir or start_first_reads(request.repo, request.remote))
    try:
        settings = repository_settings(reader.git, os.environ)
        ledger = settings.ledger if request.ledger is None else request.ledger
        now = _clock(request, ledger)
        # Evidence is judged at the door's own clock, even when the request simulates a time.
        repository = request.repository or settings.repository
        door = DeployDoor(reader, repository, request.now, start_early=True)
        request = replace(request, ledger=ledger, now=now)
        door.begin(request)  # the remote's refs read, the commit's and policy's read begun
        decision = decide(door, request, now, ledger, settings.ledger_key or None)
    finally:
        reader.git.discard_started()
    return decision, door.origin


def _clock(request: DeployCheck, ledger: str) -> datetime:
    """The door's clock; a requested time only where nothing is recorded (invariant 14)."""
    if request.simulate_at is None:
        return request.now or datetime.now(UTC)
    if ledger:
        raise UsageError(
            "--now is refused with a ledger: a recorded decision uses the door's clock",
            hint="leave --now out, or simulate without a ledger (no --ledger, TWOKEY_LEDGER "
            "or git config twokey.ledger)",
        )
    return request.simulate_at


# Approvals a door recorded itself for a release (a forge's reviews), and the refused ones.
Recorded = Callable[["Policy", Sequence["Commit"]], tuple[list[Approval], list[tuple[str, str]]]]


class DeployDoor:
    """Gathers deploy facts; its ledger entry is a ``deploy`` entry (docs/audit.md).

    ``recorded`` adds the release's approvals that a door recorded itself (the forge door:
    reviews received over an authenticated webhook, trust ``forge``); ``door`` names the door
    in the ledger. ``deploy_approvals`` adds operators' deploy approvals the door received
    itself (the gateway's, for a forge deployment waiting on them); the engine checks each one
    against the request (artifact, environment, commit, repository) as it checks signed ones.
    ``start_early`` lets git read the release while the policy is compiled (``GitRunner.start``,
    ADR 0035): only for a reader no other thread uses, whose owner discards what is left.
    """

    def __init__(
        self,
        reader: GitReader,
        repository: str,
        clock: datetime | None = None,
        recorded: Recorded | None = None,
        door: str = "deploy-check",
        deploy_approvals: Sequence[DeployApproval] = (),
        *,
        start_early: bool = False,
    ) -> None:
        self.reader = reader
        self.repository = repository
        self.clock = clock
        self.origin = ""
        self.recorded = recorded
        self.door = door
        self.deploy_approvals = tuple(deploy_approvals)
        self.start_early = start_early
        self._refs: RemoteRefs | None = None

    def begin(self, request: DeployCheck) -> None:
        """Step 1 now, before the pipeline imports the engine: the remote's refs, with the read
        of steps 2 and 3 (the commit, the default branch's policy) started when ``start_early``
        (ADR 0037). :meth:`gather` then uses these refs: the remote is asked once."""
        self._refs = refs = remote_refs(self.reader, request.remote)
        if self.start_early:
            start_objects(self.reader, _object_names(refs, request))

    def gather(self, request: DeployCheck) -> Gathered:
        """Steps: (1) the remote's refs; (2) the trusted policy; (3) the commit and the refs
        holding it; (4) the release since the last recorded deploy; (5) verified evidence."""
        reader, repository = self.reader, self.repository
        refs = self._refs or remote_refs(reader, request.remote)  # step 1 (or begin's)
        self._refs = None
        early = self.start_early and not request.ledger and not request.since
        # Without a ledger the release is every commit up to this one (_base: no exclusion).
        then = (lambda sha: reader.start_commits(sha, ())) if early else None
        commit, trusted = _commit_and_policy(reader, refs, request, then)  # steps 2 and 3
        self.origin = trusted.origin
        policy = trusted.policy
        base = _base(reader, request, repository)  # step 4
        release = reader.commits(commit, base)
        _require_whole(reader, release)
        if self.start_early:  # the evidence is listed while its verifier is imported
            _start_evidence_listing(reader, request.artifact, release)
        deploy = _request(policy, request, repository, commit)
        # Step 5: keys are judged at the door's clock (ADR 0013), never the statement's.
        clock = self.clock or datetime.now(UTC)
        verified = _verified(reader, policy, request.artifact, release, repository, clock)
        forge, refused = self.recorded(policy, release) if self.recorded else ([], [])
        facts = DeployFacts(
            deploy,
            _holding(reader, refs, policy, request.environment, commit),
            tuple(release),
            (*verified.approvals, *forge),
            tuple(verified.provenance),
            (*verified.deploy_approvals, *self.deploy_approvals),
            tuple(verified.checks),
            (*verified.rejected, *refused),
        )
        since = base[-1] if base else None
        return Gathered(policy, facts, trusted.origin, {"since": since})

    def entries(
        self, request: DeployCheck, gathered: Gathered, decision: Decision, now: datetime
    ) -> list[Entry]:
        """One ``deploy`` entry: the request, the release's start, the evidence, the decision."""
        from twokey.ledger import DeployRecord, to_entry  # noqa: PLC0415

        facts = gathered.facts
        assert isinstance(facts, DeployFacts)
        deploy = facts.request
        since = gathered.extra.get("since")
        record = DeployRecord(
            self.door,
            deploy.repository,
            deploy.environment,
            deploy.artifact,
            deploy.commit,
            str(deploy.deployer),
            str(deploy.requester),
            since if isinstance(since, str) else None,
            tuple(_evidence_ids(facts)),
            decision.to_dict(),
            gathered.policy_origin,
        )
        return [to_entry(record, now)]


def _commit_and_policy(
    reader: GitReader,
    refs: RemoteRefs,
    request: DeployCheck,
    then: Callable[[str], None] | None = None,
) -> tuple[str, TrustedPolicy]:
    """The commit to deploy and the trusted policy; one ``git cat-file --batch`` resolves the
    commit and reads the default branch's policy (start-up time, issue 10 item 9). ``then`` is
    told the commit before the policy is compiled."""
    commit, *policy = read_objects(reader, _object_names(refs, request))
    if commit is None or commit.kind != "commit":
        raise UsageError(
            f"unknown commit {request.commit!r}", hint="fetch it first (git fetch origin)"
        )
    if then is not None:
        then(commit.sha)
    return commit.sha, _trusted(reader, refs, request, policy[0] if policy else None)


def _object_names(refs: RemoteRefs, request: DeployCheck) -> list[str]:
    """What :func:`_commit_and_policy` reads: the commit, and the policy on the remote's default
    branch unless ``--policy`` overrides it."""
    names = [f"{request.commit}^{{commit}}"]
    if request.policy_file is None and refs.head in refs.tips:
        names.append(policy_name(refs, refs.head))
    return names


def _trusted(
    reader: GitReader, refs: RemoteRefs, request: DeployCheck, read: GitObject | None = None
) -> TrustedPolicy:
    """The policy on the environment's first ``from`` ref as the remote has it.

    The environment is found in the policy of the remote's default branch; when its first
    ``from`` is one literal ref, the policy on that ref's tip decides (a glob: the default
    branch's). ``--policy FILE`` is the operator's explicit override.
    """
    if request.policy_file is not None:
        from twokey.policy import load  # noqa: PLC0415

        path = request.policy_file
        return TrustedPolicy(load(path), f"{path} (--policy, not the remote's)", "")
    if not refs.head:
        raise UsageError(f"the remote {refs.remote!r} names no default branch (HEAD)")
    trusted = policy_at(reader, refs, refs.head, read)
    env = trusted.policy.environments.get(request.environment)
    if env is None or not env.from_refs:
        return trusted
    first = env.from_refs[0]
    if first == refs.head or not is_literal(first):
        return trusted
    return policy_at(reader, refs, first)


def _commit(reader: GitReader, rev: str) -> str:
    sha = reader.resolve(f"{rev}^{{commit}}")
    if sha is None:
        raise UsageError(f"unknown commit {rev!r}", hint="fetch it first (git fetch origin)")
    return sha


def _base(reader: GitReader, request: DeployCheck, repository: str) -> list[str]:
    """Where the release starts: the last recorded deploy (and ``--since``, if recorded)."""
    since = _commit(reader, request.since) if request.since else None
    if not request.ledger:  # resolved by run_deploy_check: "" means none
        if since is not None:
            raise UsageError(
                "--since needs a ledger that records that deploy (--ledger URL)",
                hint="without a ledger the release is every commit up to the deployed one",
            )
        return []
    deploys = recorded_deploys(request.ledger, repository, request.environment)
    base = release_base(deploys, since, request.environment)
    for sha in base:
        if reader.resolve(f"{sha}^{{commit}}") is None:
            raise InfrastructureError(
                f"the last recorded deploy to {request.environment}, {sha[:12]}, is not in "
                "this clone: the release cannot be read",
                hint="fetch the full history (actions/checkout: fetch-depth: 0)",
            )
    return base


def _require_whole(reader: GitReader, release: Sequence[Commit]) -> None:
    """Refuse a release that reaches a commit without parents in a shallow clone.

    A shallow clone's history stops at the commits its ``shallow`` file names, which git shows
    without parents; an earlier step of the deploy job can write that file and cut the
    deployer's own commits out of the release. A release that stays above the cut is whole
    (CI's shallow clones deploy, given a ledger's last deploy); one that reaches a parentless
    commit is whole only when that is the repository's real root, i.e. when the clone is not
    shallow.

    Raises:
        InfrastructureError: the clone is shallow and the release reaches the cut.
    """
    if all(c.parents for c in release) or not reader.is_shallow():
        return
    raise InfrastructureError(
        "this is a shallow clone and the release reaches where its history is cut: "
        "the commits before the cut, and who wrote them, cannot be read",
        hint="fetch the full history (actions/checkout: fetch-depth: 0; or git fetch --unshallow)",
    )


def _holding(
    reader: GitReader, refs: RemoteRefs, policy: Policy, environment: str, commit: str
) -> tuple[str, ...]:
    """The remote's refs, among the environment's ``from`` refs, whose tip holds ``commit``.

    Only the remote's refs count: a local branch named ``main`` is whatever the job made it.
    """
    env = policy.environments.get(environment)
    if env is None:
        return ()
    out = []
    for ref in sorted(refs.tips):
        if not any(rx.fullmatch(ref) for rx in env.from_regexes):
            continue
        if refs.tips[ref] == commit or reader.is_ancestor(commit, fetched(reader, refs, ref)):
            out.append(ref)
    return tuple(out)


def _subjects(artifact: str, release: Sequence[Commit]) -> list[str]:
    """What the evidence of a deploy is filed under: the artifact, the release's commits and
    their trees."""
    return [artifact, *(c.sha for c in release), *(c.tree for c in release)]


def _start_evidence_listing(reader: GitReader, artifact: str, release: Sequence[Commit]) -> None:
    """Start the evidence store's listing (``GitEvidenceStore.for_subjects``: the user's
    configuration, this process's environment) of :func:`_subjects` (ADR 0037)."""
    from twokey._evidence_refs import listing_args  # noqa: PLC0415
    from twokey._gitrunner import GitConfig, GitRunner  # noqa: PLC0415

    args = listing_args(_subjects(artifact, release))
    if args:
        GitRunner(reader.git.git_dir, config=GitConfig.USER).start(*args)


def _verified(
    reader: GitReader,
    policy: Policy,
    artifact: str,
    release: list[Commit],
    repository: str,
    at: datetime,
) -> VerifiedEvidence:
    from twokey.evidence import GitEvidenceStore, verify_envelopes  # noqa: PLC0415

    store = GitEvidenceStore(reader.git.git_dir)
    return verify_envelopes(
        store.for_subjects(_subjects(artifact, release)),
        policy,
        repository=repository,
        commit_trees={c.sha: c.tree for c in release},
        at=at,
    )


def _request(policy: Policy, request: DeployCheck, repository: str, commit: str) -> DeployRequest:
    deployer = parse_identity(request.deployer, policy, "--deployer")
    requester = (
        parse_identity(request.requester, policy, "--requester") if request.requester else deployer
    )
    now = request.now or datetime.now(UTC)  # set by run_deploy_check
    glass = BreakGlass(deployer, request.break_glass, now) if request.break_glass else None
    return DeployRequest(
        f"{request.environment}:{request.artifact[:19]}",
        repository,
        request.environment,
        request.artifact,
        commit,
        requester,
        deployer,
        now,
        glass,
    )


def parse_identity(text: str, policy: Policy, option: str) -> Alias:
    """``kind:value``, an email, or a bare policy id (``bob``: that person's first alias)."""
    try:
        if ":" in text:
            return Alias.parse(text)
        if "@" in text:
            return Alias.email(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from exc
    principal = policy.principals.get(text)
    if principal is None or not principal.aliases:
        raise UsageError(
            f"{option} {text!r} is no person or service in the policy",
            hint="name a policy id (dave), an email, or kind:value (key:ssh-ed25519 AAAA...)",
        )
    return principal.aliases[0]


def _evidence_ids(facts: DeployFacts) -> list[str]:
    """The ids (sha256 of the envelope bytes) of the evidence the decision was made from."""
    kinds = (facts.release_approvals, facts.provenance, facts.deploy_approvals, facts.checks)
    return sorted({e.evidence_id for kind in kinds for e in kind if e.evidence_id})
