"""Deploy requests: invariant 5 (and freeze windows, break-glass)."""

from __future__ import annotations

__all__ = ["evaluate_deploy", "short_digest"]

from datetime import datetime

from twokey.engine._cache import PolicyIndex, index_of
from twokey.engine._checks import check_findings, rejected_findings
from twokey.engine._people import Why, roles_of, short, why_text
from twokey.engine._tally import Candidate, Tally, candidate, count
from twokey.model import DeployFacts, DeployRequest, Finding, FindingCode, Severity
from twokey.policy import EnvironmentRule, Exclusion, Policy


def evaluate_deploy(
    policy: Policy, facts: DeployFacts, now: datetime
) -> tuple[Tally, EnvironmentRule | None]:
    """All findings for one deploy request, before break-glass is applied."""
    request = facts.request
    env = policy.environments.get(request.environment)
    tally = Tally()
    if env is None:
        known = ", ".join(sorted(policy.environments)) or "none"
        tally.findings.append(
            Finding(
                FindingCode.UNKNOWN_ENVIRONMENT,
                Severity.DENY,
                f"environment '{request.environment}' is not in the policy",
                f"deploy to a defined environment ({known})",
            )
        )
        return tally, None
    index = index_of(policy)
    _source(facts, env, tally)
    tally.findings += rejected_findings(facts.rejected, env.rule)
    separated = _separated(index, env, facts)
    _deployer(index, facts, env, separated, tally)
    _provenance(index, facts, env, tally)
    own = _own(index, request)
    candidates = _deploy_candidates(index, facts, env, own, tally)
    part = Tally()
    count(
        index,
        env.approval,
        candidates,
        {**_excluded_own(own, request.commit), **separated},
        part,
        missing_code=FindingCode.INSUFFICIENT_DEPLOY_APPROVALS,
        subject=f"deploy of {short_digest(request.artifact)} to {env.name}",
    )
    tally.findings += [_as_conflict(f) for f in part.findings]
    tally.counted += part.counted
    tally.excluded += part.excluded
    if env.checks is not None:
        tally.findings += check_findings(
            index, env.checks, facts.checks, request.repository, request.artifact, "artifact"
        )
    _freeze(env, now, tally)
    return tally, env


def _own(index: PolicyIndex, request: DeployRequest) -> dict[str, str]:
    """The deployer and the requester (person id -> role): their deploy approvals never count.

    The second person is the point of a deploy approval (invariant 5; GitLab refuses
    self-approval of deployments, GitHub offers "prevent self-review"). Keyed by person id, so
    no alias of theirs counts either.
    """
    out: dict[str, str] = {}
    for alias, role in ((request.requester, "requester"), (request.deployer, "deployer")):
        who = index.principal_id(alias)
        if who is not None and index.principals[who].is_person:  # services: SERVICE_APPROVAL
            out[who] = role
    return out


def _deploy_candidates(
    index: PolicyIndex,
    facts: DeployFacts,
    env: EnvironmentRule,
    own: dict[str, str],
    tally: Tally,
) -> list[Candidate]:
    """Deploy approvals of this artifact, environment, commit and repository, by others.

    A deploy approval by the deployer or the requester is reported (``DEPLOY_SELF_APPROVAL``)
    and left out; when too few approvals remain, the threshold denies.
    """
    request = facts.request
    wanted = (request.artifact, env.name, request.commit, request.repository)
    out = []
    reported = set()
    # Only the environment's approvers are refused here; count() reports everyone else.
    own = {who: role for who, role in own.items() if who in index.people_in(env.approval)}
    for a in facts.deploy_approvals:
        if (a.artifact, a.environment, a.commit, a.repository) != wanted:
            continue
        cand = candidate(index, a.signer, a.trust, a.evidence_id or a.source)
        who = cand.person
        if who is None or who not in own:
            out.append(cand)
        elif who not in reported:
            reported.add(who)
            tally.findings.append(_self_approval(who, own[who], request, env))
    return out


def _self_approval(who: str, role: str, request: DeployRequest, env: EnvironmentRule) -> Finding:
    return Finding(
        FindingCode.DEPLOY_SELF_APPROVAL,
        Severity.WARN,
        f"deploy approval by {who} does not count for deploy of "
        f"{short_digest(request.artifact)} to {env.name}: {who} is the {role}",
        "a deploy approval from an operator other than the deployer and the requester",
        env.rule,
        (who,),
    )


def _excluded_own(own: dict[str, str], commit: str) -> dict[str, Why]:
    """``own`` as exclusions, so the threshold does not name them as still eligible."""
    return {who: Why(Exclusion.LAST_PUSHER, commit, f"the {role}") for who, role in own.items()}


def _as_conflict(finding: Finding) -> Finding:
    if finding.code is not FindingCode.SELF_APPROVAL:
        return finding
    return Finding(
        FindingCode.DEPLOY_APPROVER_CONFLICT,
        finding.severity,
        finding.message,
        "a deploy approval from an operator who neither wrote nor approved the changes in "
        "this release",
        finding.rule,
        finding.people,
    )


def short_digest(digest: str) -> str:
    """``sha256:0123456789ab`` for messages."""
    algo, _, hexdigest = digest.partition(":")
    return f"{algo}:{hexdigest[:12]}" if hexdigest else digest[:19]


def _separated(index: PolicyIndex, env: EnvironmentRule, facts: DeployFacts) -> dict[str, Why]:
    """Who may neither approve nor carry out this deploy: the environment's ``separate`` list.

    ``authors`` are the authors and co-authors of the release's commits (with the people who
    direct an agent that wrote one); ``approvers`` are the people who approved them.
    """
    kinds = set(env.approval.exclude - {Exclusion.APPROVERS})
    if Exclusion.AUTHORS in kinds:
        kinds.add(Exclusion.CO_AUTHORS)
    out = dict(roles_of(index, facts.release, None).excluded(frozenset(kinds)))
    if Exclusion.APPROVERS in env.approval.exclude:
        for approval in sorted(facts.release_approvals, key=lambda a: (a.commit, a.signer)):
            who = index.principal_id(approval.signer) or str(approval.signer)
            out.setdefault(who, Why(Exclusion.APPROVERS, approval.commit))
    return out


def _source(facts: DeployFacts, env: EnvironmentRule, tally: Tally) -> None:
    if any(rx.fullmatch(ref) for ref in facts.commit_refs for rx in env.from_regexes):
        return
    tally.findings.append(
        Finding(
            FindingCode.REF_NOT_DEPLOYABLE,
            Severity.DENY,
            f"commit {short(facts.request.commit)} is not on {', '.join(env.from_refs)}",
            f"deploy a commit that landed on {', '.join(env.from_refs)} under the branch policy",
            env.rule,
            commits=(facts.request.commit,),
        )
    )


def _deployer(
    index: PolicyIndex,
    facts: DeployFacts,
    env: EnvironmentRule,
    separated: dict[str, Why],
    tally: Tally,
) -> None:
    deployer = index.resolve(facts.request.deployer)
    who = deployer.id if deployer else str(facts.request.deployer)
    if deployer is None or who not in env.deployers:
        tally.findings.append(
            Finding(
                FindingCode.UNAUTHORIZED_DEPLOYER,
                Severity.DENY,
                f"{who} may not deploy to {env.name}",
                f"the deploy is carried out by {', '.join(sorted(env.deployers))}",
                env.rule,
                (who,),
            )
        )
        return
    if not deployer.is_person or who not in separated:
        return
    why = separated[who]
    code = (
        FindingCode.DEPLOYER_IS_APPROVER
        if why.kind is Exclusion.APPROVERS
        else FindingCode.DEPLOYER_IS_AUTHOR
    )
    tally.findings.append(
        Finding(
            code,
            Severity.DENY,
            f"deployer {who} is {why_text(why)}",
            "someone who neither wrote nor approved the release deploys it",
            env.rule,
            (who,),
        )
    )


def _provenance(index: PolicyIndex, facts: DeployFacts, env: EnvironmentRule, tally: Tally) -> None:
    """The artifact was built from the commit by a trusted builder (invariant 5)."""
    request = facts.request
    matching = [
        p
        for p in facts.provenance
        if p.artifact == request.artifact
        and p.commit == request.commit
        and p.repository == request.repository
    ]
    if any(
        index.principal_id(p.signer) in env.builders and p.trust in env.approval.accept
        for p in matching
    ):
        return
    if matching:
        signers = sorted({index.principal_id(p.signer) or str(p.signer) for p in matching})
        code = FindingCode.UNTRUSTED_BUILDER
        what = f"was built by {', '.join(signers)}, not a trusted builder"
    else:
        code = FindingCode.NO_PROVENANCE
        what = f"has no build provenance for commit {short(request.commit)}"
    tally.findings.append(
        Finding(
            code,
            Severity.DENY,
            f"artifact {short_digest(request.artifact)} {what}",
            f"build provenance for this digest and commit, signed by "
            f"{', '.join(sorted(env.builders)) or 'nobody (no builders configured)'}",
            env.rule,
            commits=(request.commit,),
        )
    )


def _freeze(env: EnvironmentRule, now: datetime, tally: Tally) -> None:
    for window in env.freeze:
        if window.contains(now):
            tally.findings.append(
                Finding(
                    FindingCode.FREEZE_WINDOW,
                    Severity.DENY,
                    f"{env.name} is frozen ({window.text})",
                    "wait for the window to end, or break glass with a reason",
                    window.rule,
                )
            )
