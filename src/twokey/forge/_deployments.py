"""Deployments that wait for twokey: GitHub's custom deployment protection rules, and GitLab
deployments blocked for approval.

1. the deploy door judges the deployment on the gateway's mirror (``remote .``): the trusted
   policy, the release since the last recorded deploy, the signed evidence in the mirror
   (provenance, operators' deploy approvals), and the release's forge reviews as approvals;
2. the decision is recorded in the ledger (a ``deploy`` entry, door ``forge-deployment``);
3. allowed: approve; denied only because an operator's approval is missing
   (``INSUFFICIENT_DEPLOY_APPROVALS`` and nothing else): keep it pending, answer nothing yet;
   denied for anything else: reject, with a comment naming the findings;
4. when an approval arrives (the gateway), :func:`reevaluate_pending` judges every pending
   deployment again (the gateway's own deploy approvals given by ``approvals``) and answers
   those that are decided; the store's ``settle`` lets exactly one gateway process answer each,
   and a re-evaluation never stores the row again (a process that judged it still waiting
   while another settled it must not bring it back to be answered twice).
"""

from __future__ import annotations

__all__ = ["DeployAnswer", "judge_deployment", "reevaluate_pending"]

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from twokey.doors import DeployCheck, DeployDoor, decide, door_deny
from twokey.errors import TwokeyError
from twokey.forge._actions import DeploymentReview, ForgeActions, summary
from twokey.forge._approvals import forge_approvals
from twokey.forge._judge import Mirror
from twokey.forge._store import ForgeStore, PendingDeployment
from twokey.git import GitReader
from twokey.model import Approval, Commit, Decision, DeployApproval, FindingCode, Severity
from twokey.policy import Policy

DOOR = "forge-deployment"

# The gateway's own deploy approvals for a pending deployment (operators who approved in it).
GatewayApprovals = Callable[[PendingDeployment], Sequence[DeployApproval]]


@dataclass(frozen=True)
class DeployAnswer:
    """The recorded decision, and what the forge is told (None while pending)."""

    decision: Decision
    review: DeploymentReview | None
    pending: bool


def judge_deployment(
    mirror: Mirror,
    pending: PendingDeployment,
    store: ForgeStore,
    now: datetime,
    ledger: str,
    key: str | None = None,
    *,
    deploy_approvals: Sequence[DeployApproval] = (),
    keep: bool = True,
) -> DeployAnswer:
    """Steps 1-3 of the module docstring for one deployment (stored as pending when it waits
    and ``keep``: a re-evaluation of a stored one passes False)."""
    decision = _decide(mirror, pending, store, now, ledger, key, deploy_approvals)
    if decision.allowed:
        return DeployAnswer(decision, _review(pending, True, decision), False)
    if _waits_for_an_operator(decision):
        if keep:
            store.add_pending(pending)
        return DeployAnswer(decision, None, True)
    return DeployAnswer(decision, _review(pending, False, decision), False)


def reevaluate_pending(
    mirrors: Mapping[tuple[str, str], Mirror],
    store: ForgeStore,
    actions: ForgeActions,
    now: datetime,
    ledger: str,
    key: str | None = None,
    *,
    approvals: GatewayApprovals | None = None,
    only: Callable[[PendingDeployment], bool] | None = None,
) -> list[DeployAnswer]:
    """Step 4: every pending deployment (those ``only`` selects) judged again, with the
    gateway's ``approvals``; the decided ones answered once."""
    answers = []
    for pending in store.pending():
        if only is not None and not only(pending):
            continue
        mirror = mirrors.get((pending.forge, pending.repository))
        if mirror is None:
            continue
        given = approvals(pending) if approvals is not None else ()
        answer = judge_deployment(
            mirror, pending, store, now, ledger, key, deploy_approvals=given, keep=False
        )
        if answer.review is not None and store.settle(pending):
            actions.review_deployment(answer.review)
        answers.append(answer)
    return answers


def _decide(
    mirror: Mirror,
    pending: PendingDeployment,
    store: ForgeStore,
    now: datetime,
    ledger: str,
    key: str | None,
    deploy_approvals: Sequence[DeployApproval] = (),
) -> Decision:
    """Steps 1-2; a deployment the door cannot read (unknown commit or deployer) is a deny."""
    request = DeployCheck(
        repo=mirror.git_dir,
        environment=pending.environment,
        artifact=pending.artifact,
        commit=pending.commit,
        deployer=pending.deployer,
        now=now,
        ledger=ledger,
        remote=".",
        repository=mirror.repository,
    )
    reader = GitReader(mirror.git_dir)
    recorded = _release_reviews(store, pending, reader, mirror.repository)
    door = DeployDoor(
        reader,
        mirror.repository,
        now,
        recorded=recorded,
        door=DOOR,
        deploy_approvals=deploy_approvals,
    )
    try:
        return decide(door, request, now, ledger, key)
    except TwokeyError as exc:
        subject = f"deploy of {pending.commit[:12]} to {pending.environment}"
        hint = exc.hint or "fix the deployment or the gateway's mirror"
        return door_deny(subject, FindingCode.MALFORMED_INPUT, exc.message, hint)


Reviews = Callable[[Policy, Sequence[Commit]], tuple[list[Approval], list[tuple[str, str]]]]


def _release_reviews(
    store: ForgeStore, pending: PendingDeployment, reader: GitReader, repository: str
) -> Reviews:
    """The forge reviews of the release's commits, as approvals (the same rules as a PR)."""

    def reviews(
        policy: Policy, release: Sequence[Commit]
    ) -> tuple[list[Approval], list[tuple[str, str]]]:
        found = store.reviews_of_commits(
            pending.forge, pending.repository, [c.sha for c in release]
        )
        approvals: list[Approval] = []
        refused: list[tuple[str, str]] = []
        for number in sorted({r.number for r in found}):
            change = store.change(pending.forge, pending.repository, number)
            if change is None:
                continue
            mine = [r for r in found if r.number == number]
            got, why = forge_approvals(mine, change, policy, reader, repository)
            approvals += got
            refused += why
        return approvals, refused

    return reviews


def _waits_for_an_operator(decision: Decision) -> bool:
    denies = {f.code for f in decision.findings if f.severity is Severity.DENY}
    return denies == {FindingCode.INSUFFICIENT_DEPLOY_APPROVALS}


def _review(pending: PendingDeployment, approved: bool, decision: Decision) -> DeploymentReview:
    lines = [f"twokey {summary(decision, 10_000)}"]
    lines += [f"- {f.code}: {f.message}" for f in decision.findings if f.severity is Severity.DENY]
    return DeploymentReview(
        pending.forge,
        pending.repository,
        pending.deployment,
        pending.environment,
        approved,
        "\n".join(lines),
        pending.callback,
    )
