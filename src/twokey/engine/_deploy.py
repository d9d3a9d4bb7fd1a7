"""Deploy requests: invariant 5 (and freeze windows, break-glass)."""

from __future__ import annotations

__all__ = ["evaluate_deploy"]

from datetime import datetime

from twokey.engine._people import roles_of, short
from twokey.engine._tally import Tally, candidate, count
from twokey.model import DeployFacts, Finding, FindingCode, Severity
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
    _source(facts, env, tally)
    release_approvers = _release_approvers(policy, facts)
    roles = roles_of(policy, facts.release, None)
    separated = _separated(
        env, roles.of(Exclusion.AUTHORS) | roles.of(Exclusion.CO_AUTHORS), release_approvers
    )
    _deployer(policy, facts, env, separated, tally)
    _provenance(policy, facts, env, tally)
    candidates = [
        candidate(policy, a.signer, a.trust, a.evidence_id or a.source)
        for a in sorted(facts.deploy_approvals, key=lambda a: (str(a.signer), a.evidence_id))
        if (a.artifact, a.environment, a.commit) == (request.artifact, env.name, request.commit)
    ]
    part = count(
        policy,
        env.approval,
        candidates,
        separated,
        missing_code=FindingCode.INSUFFICIENT_DEPLOY_APPROVALS,
        subject=f"deploy of {short_digest(request.artifact)} to {env.name}",
    )
    tally.findings += [_as_conflict(f) for f in part.findings]
    tally.counted += part.counted
    tally.excluded += part.excluded
    _freeze(env, now, tally)
    return tally, env


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


def _release_approvers(policy: Policy, facts: DeployFacts) -> dict[str, str]:
    out: dict[str, str] = {}
    for approval in facts.release_approvals:
        principal = policy.resolve(approval.signer)
        who = principal.id if principal else str(approval.signer)
        out.setdefault(who, f"an approver of {short(approval.commit)} in this release")
    return out


def _separated(
    env: EnvironmentRule, authors: dict[str, str], approvers: dict[str, str]
) -> dict[str, str]:
    out: dict[str, str] = {}
    if Exclusion.AUTHORS in env.approval.exclude:
        out.update(authors)
    if Exclusion.APPROVERS in env.approval.exclude:
        for who, why in approvers.items():
            out.setdefault(who, why)
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
    policy: Policy,
    facts: DeployFacts,
    env: EnvironmentRule,
    separated: dict[str, str],
    tally: Tally,
) -> None:
    deployer = policy.resolve(facts.request.deployer)
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
    reason = separated[who]
    code = (
        FindingCode.DEPLOYER_IS_APPROVER
        if reason.startswith("an approver")
        else FindingCode.DEPLOYER_IS_AUTHOR
    )
    tally.findings.append(
        Finding(
            code,
            Severity.DENY,
            f"deployer {who} is {reason}",
            "someone who neither wrote nor approved the release deploys it",
            env.rule,
            (who,),
        )
    )


def _provenance(policy: Policy, facts: DeployFacts, env: EnvironmentRule, tally: Tally) -> None:
    request = facts.request
    matching = [
        p for p in facts.provenance if p.artifact == request.artifact and p.commit == request.commit
    ]
    trusted = [
        p
        for p in matching
        if (s := policy.resolve(p.signer)) is not None
        and s.id in env.builders
        and p.trust.value == "signed"
    ]
    if trusted:
        return
    code = FindingCode.UNTRUSTED_BUILDER if matching else FindingCode.NO_PROVENANCE
    what = (
        "was not built by a trusted builder"
        if matching
        else f"has no build provenance for commit {short(request.commit)}"
    )
    tally.findings.append(
        Finding(
            code,
            Severity.DENY,
            f"artifact {short_digest(request.artifact)} {what}",
            f"signed build provenance from {', '.join(sorted(env.builders))} for this digest",
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
