"""Ref updates: invariants 1-4, 7, 8, 10, 11 and 13 (break-glass, 6 and 12, is applied later)."""

from __future__ import annotations

__all__ = ["binds", "evaluate_ref_update"]

from twokey.engine._cache import PolicyIndex, index_of
from twokey.engine._checks import check_findings, rejected_findings
from twokey.engine._people import Roles, Why, roles_of, short
from twokey.engine._tally import Candidate, Tally, candidate, count
from twokey.model import (
    Approval,
    Change,
    Commit,
    Finding,
    FindingCode,
    Landing,
    RefUpdateFacts,
    Severity,
    UpdateKind,
)
from twokey.policy import ApprovalRule, Exclusion, Policy, RefRule


def evaluate_ref_update(policy: Policy, facts: RefUpdateFacts) -> tuple[Tally, RefRule | None]:
    """All findings for one ref update, before break-glass is applied."""
    change = facts.change
    index = index_of(policy)
    rule = index.ref_rule(change.ref)
    tally = Tally()
    if rule is None:
        tally.findings.append(
            Finding(
                FindingCode.UNPROTECTED_REF,
                Severity.INFO,
                f"{change.ref} is not protected by the policy",
                "nothing: no rule protects this ref (add one under branches: or tags:)",
            )
        )
        return tally, None
    kind = change.kind
    if kind is UpdateKind.DELETE:
        if not rule.allow_deletion:
            tally.findings.append(
                Finding(
                    FindingCode.REF_DELETION,
                    Severity.DENY,
                    f"{change.ref} may not be deleted",
                    "protected refs are never deleted; the policy may allow it (deletion: true)",
                    rule.rule,
                    commits=(change.old,),
                )
            )
        return tally, rule
    if _names_no_commit(change, rule, tally):
        return tally, rule
    _tag_moved(change, rule, tally)
    if kind is UpdateKind.FORCE and not rule.allow_force_push:
        tally.findings.append(
            Finding(
                FindingCode.FORCE_PUSH,
                Severity.DENY,
                f"{change.ref} would be rewritten ({short(change.old)} is not an ancestor of "
                f"{short(change.new)})",
                f"push a fast-forward: merge or rebase onto {short(change.old)}",
                rule.rule,
                commits=(change.old, change.new),
            )
        )
    _unclean_merges(change, rule, tally)
    tally.findings += rejected_findings(facts.rejected, rule.rule)
    covering, landed = _covering(index, facts, rule, tally)
    roles = roles_of(index, _with_landed(change.commits, landed), change.pusher)
    _pusher_needed(change, rule.approval.exclude, rule, tally)
    count(
        index,
        rule.approval,
        covering,
        roles.excluded(rule.approval.exclude),
        tally,
        missing_code=FindingCode.INSUFFICIENT_APPROVALS,
        subject=change.ref,
        applying=_applying(roles, rule.approval),
    )
    _owners(index, change, rule, covering, roles, tally)
    _policy_change(policy, index, change, rule, covering, roles, tally)
    if rule.checks is not None:
        tally.findings += check_findings(
            index, rule.checks, facts.checks, change.repository, change.new_tree, "tree"
        )
    return tally, rule


def _names_no_commit(change: Change, rule: RefRule, tally: Tally) -> bool:
    """A protected ref must peel to a commit (ADR 0011): a tree or blob brings no history."""
    if change.new_type == "commit":
        return False
    tally.findings.append(
        Finding(
            FindingCode.NOT_A_COMMIT,
            Severity.DENY,
            f"{change.ref} names a {change.new_type}, not a commit (a protected ref must peel "
            "to a commit)",
            "point the ref at a commit (e.g. git tag -a NAME COMMIT)",
            rule.rule,
            commits=(change.new,),
        )
    )
    return True


def _tag_moved(change: Change, rule: RefRule, tally: Tally) -> None:
    """Protected tags are immutable unless the rule says ``move: true`` (ADR 0011)."""
    if not change.ref.startswith("refs/tags/") or change.kind is UpdateKind.CREATE:
        return
    if rule.allow_move:
        return
    tally.findings.append(
        Finding(
            FindingCode.TAG_MOVED,
            Severity.DENY,
            f"{change.ref} already names {short(change.old)}; protected tags never move",
            "create a new tag name, or allow it in the tag's rule (move: true)",
            rule.rule,
            commits=(change.old, change.new),
        )
    )


def _unclean_merges(change: Change, rule: RefRule, tally: Tally) -> None:
    for commit in change.commits:
        if commit.clean_merge is False and len(commit.parents) > 1:
            tally.findings.append(
                Finding(
                    FindingCode.UNCLEAN_MERGE,
                    Severity.DENY,
                    f"merge {short(commit.sha)} is not the clean merge of its parents "
                    "(it adds or changes content of its own)",
                    "redo the merge without edits, or commit the extra change separately for "
                    "review",
                    rule.rule,
                    commits=(commit.sha,),
                )
            )


def _covering(
    index: PolicyIndex,
    facts: RefUpdateFacts,
    rule: RefRule,
    tally: Tally,
) -> tuple[list[Candidate], list[Landing]]:
    """Approvals bound to the content that lands (invariant 2, ADR 0011); the others explained.

    Also the landings of the covering approvals: their commits wrote what lands.
    """
    change = facts.change
    landed = {landing.head: landing for landing in facts.landings}
    used: dict[str, Landing] = {}
    out: list[Candidate] = []
    stale: list[tuple[str, Finding]] = []
    for approval in facts.approvals:  # order-free: count() and the final sort make it so
        if approval.repository != change.repository or approval.ref != change.ref:
            stale.append(_mismatch(index, approval, change, rule, replay=True))
        elif binds(approval, change, landed.get(approval.commit)):
            if approval.commit in landed:
                used[approval.commit] = landed[approval.commit]
            out.append(
                candidate(
                    index, approval.signer, approval.trust, approval.evidence_id or approval.source
                )
            )
        else:
            stale.append(_stale(index, approval, change, rule, landed.get(approval.commit)))
    if stale:
        # Someone who approved an earlier version and then the landing content needs no warning.
        current = {c.person for c in out}
        tally.findings += [f for who, f in stale if who not in current]
    return out, [used[head] for head in sorted(used)]


def _with_landed(commits: tuple[Commit, ...], landed: list[Landing]) -> list[Commit]:
    """The change's commits and those the covering landings bring (once each)."""
    seen = {c.sha for c in commits}
    out = list(commits)
    for landing in landed:
        for commit in landing.commits:
            if commit.sha not in seen:
                seen.add(commit.sha)
                out.append(commit)
    return out


def binds(approval: Approval, change: Change, landing: Landing | None) -> bool:
    """True when an approval of head H covers ``change`` (DESIGN invariant 2, ADR 0011).

    Steps: (1) an approval of the new tip itself covers it, if it names the tip's real tree;
    (2) otherwise H must have a landing: the tree of the clean three-way merge of the old tip
    with H, computed by the door from H's real commit (an unknown commit has none); (3) the
    approval must name H's real tree; (4) the landing must be exactly the new tree (extra or
    dropped content, or an old tree landing again, is not); (5) landing H must change the
    ref's content (a head already on the ref lands as a no-op and covers nothing new).
    """
    if approval.commit == change.new:  # (1)
        return not change.new_tree or approval.tree == change.new_tree
    if landing is None or not landing.tree:  # (2)
        return False
    if landing.head_tree != approval.tree:  # (3)
        return False
    return landing.tree == change.new_tree and landing.tree != change.old_tree  # (4), (5)


def _who(index: PolicyIndex, approval: Approval) -> str:
    return index.principal_id(approval.signer) or str(approval.signer)


def _stale(
    index: PolicyIndex, approval: Approval, change: Change, rule: RefRule, landing: Landing | None
) -> tuple[str, Finding]:
    """STALE_APPROVAL when the approved commit is part of this change, else a mismatch."""
    commits = change.commits
    at = next(
        (i for i, c in enumerate(commits) if c.sha == approval.commit or c.tree == approval.tree),
        None,
    )
    newer = [c.sha for c in commits[at + 1 :]] if at is not None else []
    if not newer:
        return _mismatch(index, approval, change, rule, replay=False, landing=landing)
    who = _who(index, approval)
    listed = ", ".join(short(sha) for sha in newer[:5]) + (", ..." if len(newer) > 5 else "")
    return who, Finding(
        FindingCode.STALE_APPROVAL,
        Severity.WARN,
        f"approval by {who} covers {short(approval.commit)} but new content landed after it: "
        f"{listed}",
        f"approve the new head {short(change.new)} (tree {short(change.new_tree)})",
        rule.rule,
        (who,),
        (approval.commit, *newer),
    )


def _unbound(approval: Approval, change: Change, landing: Landing | None) -> str:
    """Why an approval of another head does not cover ``change`` (ADR 0011), in words."""
    head = short(approval.commit)
    if landing is None:
        return f"is for {head}, content this update does not bring"
    if not landing.head_tree:
        return (
            f"is for {head}, content this update does not bring (the repository does not hold "
            "it, so what landing it would change is unknown: push the reviewed commit)"
        )
    if landing.head_tree != approval.tree:
        real = short(landing.head_tree)
        return f"claims tree {short(approval.tree)} for {head}, whose tree is {real}"
    if not landing.tree:
        return f"is for {head}, which does not merge cleanly onto {short(change.old)}"
    if landing.tree == change.old_tree:
        return f"is for {head}, which is already on {change.ref} (landing it changes nothing)"
    return (
        f"is for {head}: landing it on {short(change.old)} gives tree {short(landing.tree)}, "
        f"not the pushed tree {short(change.new_tree)} (the push adds, drops or restores "
        "content the approval does not cover)"
    )


def _mismatch(
    index: PolicyIndex,
    approval: Approval,
    change: Change,
    rule: RefRule,
    *,
    replay: bool,
    landing: Landing | None = None,
) -> tuple[str, Finding]:
    who = _who(index, approval)
    hint = f"approve {short(change.new)} on {change.ref} of {change.repository}"
    if replay and approval.repository != change.repository:  # issue 10: say how to fix it
        hint += f"; a clone names it: git config twokey.repository {change.repository}"
    what = (
        f"is for {approval.repository} {approval.ref}, not {change.repository} {change.ref}"
        if replay
        else _unbound(approval, change, landing)
    )
    return who, Finding(
        FindingCode.EVIDENCE_MISMATCH,
        Severity.WARN,
        f"approval by {who} {what}",
        hint,
        rule.rule,
        (who,),
        (approval.commit,),
    )


def _owners(
    index: PolicyIndex,
    change: Change,
    rule: RefRule,
    covering: list[Candidate],
    roles: Roles,
    tally: Tally,
) -> None:
    """Each owner rule matching a changed path needs its own approvals (invariant 4)."""
    if not rule.owners:
        return
    for owner, subject in index.owned(rule, change.paths):
        _pusher_needed(change, owner.approval.exclude, rule, tally)
        count(
            index,
            owner.approval,
            covering,
            roles.excluded(owner.approval.exclude),
            tally,
            missing_code=FindingCode.OWNER_APPROVAL_MISSING,
            subject=f"{change.ref} ({owner.pattern}: {subject})",
            primary=False,
            applying=_applying(roles, owner.approval),
        )


def _applying(roles: Roles, rule: ApprovalRule) -> dict[str, Why] | None:
    """Whom ``applied`` evidence may not come from: the rule's exclusions but committers
    (applying another's patch is what made its maintainer the committer); None: not counted."""
    if not rule.count_applied:
        return None
    return roles.excluded(rule.exclude - {Exclusion.COMMITTERS})


def _policy_change(
    policy: Policy,
    index: PolicyIndex,
    change: Change,
    ref_rule: RefRule,
    covering: list[Candidate],
    roles: Roles,
    tally: Tally,
) -> None:
    """A change to the policy file also needs the k-of-n sign-off (invariant 7, ADR 0007)."""
    if policy.policy_path not in change.paths:
        return
    rule = policy.policy_change
    _pusher_needed(change, rule.exclude, ref_rule, tally)
    count(
        index,
        rule,
        covering,
        roles.excluded(rule.exclude),
        tally,
        missing_code=FindingCode.POLICY_CHANGE_UNAPPROVED,
        subject=f"the policy change ({policy.policy_path})",
        primary=False,
    )


def _pusher_needed(
    change: Change, exclude: frozenset[Exclusion], rule: RefRule, tally: Tally
) -> None:
    """A rule that excludes the last pusher cannot be checked when nobody knows who pushes.

    Fail closed (invariant 8): without a pusher the pusher's own approval could count, so the
    update is denied, once, with what would name the pusher.
    """
    if change.pusher is not None or Exclusion.LAST_PUSHER not in exclude:
        return
    if any(f.code is FindingCode.UNKNOWN_PUSHER for f in tally.findings):
        return
    tally.findings.append(
        Finding(
            FindingCode.UNKNOWN_PUSHER,
            Severity.DENY,
            f"{change.ref}: the policy excludes the last pusher from approving, but the "
            "transport did not say who pushes",
            "push where the server names the pusher (SSH with TWOKEY_PUSHER, HTTP with "
            "REMOTE_USER, or git push --signed; twokey check --pusher), or drop last-pusher "
            "from the rule",
            rule.rule,
        )
    )
