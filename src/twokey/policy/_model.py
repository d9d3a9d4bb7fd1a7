"""The compiled policy: what the loader produces and the engine reads.

Every rule carries the :class:`~twokey.model.RuleRef` it was written at, so that each finding
can name the policy line that produced it. Group names are resolved to principal ids at load
time; the engine never sees a group.
"""

from __future__ import annotations

__all__ = [
    "ApprovalRule",
    "CheckRule",
    "EnvironmentRule",
    "Exclusion",
    "FreezeWindow",
    "KeyValidity",
    "OwnerRule",
    "Policy",
    "Principal",
    "RefRule",
]

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from functools import cached_property

from twokey.model import Alias, PrincipalKind, RuleRef, TrustLevel
from twokey.policy._glob import Glob


class Exclusion(enum.StrEnum):
    """Who may not count towards a rule, relative to the change or release."""

    AUTHORS = "authors"
    COMMITTERS = "committers"
    CO_AUTHORS = "co-authors"
    LAST_PUSHER = "last-pusher"
    APPROVERS = "approvers"  # deploys: the approvers of the changes in the release


@dataclass(frozen=True, slots=True)
class Principal:
    """A person or a service, with every alias it is known by.

    ``directed_by`` is set for services that are AI agents: the people who direct them count
    among the authors of what they write (DESIGN invariant 10).
    """

    id: str
    name: str
    kind: PrincipalKind
    aliases: tuple[Alias, ...]
    rule: RuleRef
    directed_by: tuple[str, ...] = ()

    @property
    def is_person(self) -> bool:
        """Only people count for separation of duties."""
        return self.kind is PrincipalKind.PERSON


@dataclass(frozen=True, slots=True)
class KeyValidity:
    """When a registered key may sign (as git's ``allowed_signers`` valid-after/valid-before)."""

    valid_after: datetime | None = None
    valid_before: datetime | None = None
    revoked: bool = False

    def __post_init__(self) -> None:
        for moment in (self.valid_after, self.valid_before):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("KeyValidity times must be timezone-aware")

    def valid_at(self, when: datetime) -> bool:
        """True when the key is not revoked and ``when`` lies inside its window."""
        if self.revoked:
            return False
        if self.valid_after is not None and when < self.valid_after:
            return False
        return self.valid_before is None or when < self.valid_before


@dataclass(frozen=True, slots=True)
class ApprovalRule:
    """``count`` distinct eligible people from ``approvers``, none of them excluded.

    ``approvers`` holds resolved person ids; ``approver_names`` the group/person names as
    written, for messages. ``accept`` are the evidence trust levels that count.
    ``count_applied``: the committer who applied another's patch (evidence kind ``applied``,
    trust ``trailer``) counts as an approver, though a committer (docs/policy.md).
    """

    count: int
    approvers: frozenset[str]
    approver_names: tuple[str, ...]
    exclude: frozenset[Exclusion]
    accept: frozenset[TrustLevel]
    rule: RuleRef
    count_applied: bool = False

    def __post_init__(self) -> None:
        if self.count < 0:
            raise ValueError("ApprovalRule.count must be >= 0")
        if self.count > 0 and not self.approvers:
            raise ValueError("ApprovalRule with count > 0 needs approvers")


@dataclass(frozen=True, slots=True)
class CheckRule:
    """Named checks that must have passed for the exact content, signed by ``signers``."""

    names: tuple[str, ...]
    signers: frozenset[str]  # principal ids (services) trusted to report checks
    accept: frozenset[TrustLevel]
    rule: RuleRef


@dataclass(frozen=True, slots=True)
class OwnerRule:
    """Paths matching ``pattern`` (CODEOWNERS-like glob) also need this approval."""

    pattern: str
    regex: Glob
    approval: ApprovalRule
    rule: RuleRef

    def matches(self, path: str) -> bool:
        """True when ``path`` (repository-relative, ``/``-separated) is owned by this rule."""
        return self.regex.matches(path)


@dataclass(frozen=True, slots=True)
class RefRule:
    """A protected ref pattern (``refs/heads/main``, ``refs/tags/v*``) and its rules."""

    pattern: str
    regex: Glob
    approval: ApprovalRule
    owners: tuple[OwnerRule, ...]
    checks: CheckRule | None
    allow_force_push: bool
    allow_deletion: bool
    rule: RuleRef
    break_glass: frozenset[str] = frozenset()  # person ids allowed to break glass on this ref
    # ADR 0012: every commit must be signed by a key of the person its author resolves to.
    signed_commits: bool = False
    # ADR 0012: authors, committers and co-authors who resolve to nobody are allowed (a
    # loosening, for projects with outside contributors); by default they deny.
    allow_unknown_authors: bool = False
    allow_move: bool = False  # tags: may an existing protected tag be moved (ADR 0011)

    def matches(self, ref: str) -> bool:
        """True when this rule protects ``ref``."""
        return self.regex.matches(ref)

    @property
    def counts_applied(self) -> bool:
        """True when this rule or one of its path owners counts ``applied`` evidence: only
        then do the doors gather it (elsewhere it would be a refusal on every such commit)."""
        return self.approval.count_applied or any(o.approval.count_applied for o in self.owners)


@dataclass(frozen=True, slots=True)
class FreezeWindow:
    """A weekly window, e.g. ``Fri 16:00 - Mon 08:00 Europe/Berlin`` (days 0=Mon..6=Sun)."""

    text: str
    start_day: int
    start: time
    end_day: int
    end: time
    tz: str
    rule: RuleRef

    def contains(self, now: datetime) -> bool:
        """True when ``now`` (timezone-aware) falls inside the window, in the window's zone."""
        from zoneinfo import ZoneInfo  # noqa: PLC0415 - only a policy with freeze windows

        local = now.astimezone(ZoneInfo(self.tz))
        minute = _week_minute(local.weekday(), local.time())
        start = _week_minute(self.start_day, self.start)
        end = _week_minute(self.end_day, self.end)
        if start <= end:
            return start <= minute < end
        return minute >= start or minute < end


def _week_minute(day: int, at: time) -> int:
    return day * 24 * 60 + at.hour * 60 + at.minute


@dataclass(frozen=True, slots=True)
class EnvironmentRule:
    """Who may deploy what, from where, to one environment."""

    name: str
    from_refs: tuple[str, ...]
    from_regexes: tuple[Glob, ...]
    deployers: frozenset[str]  # principal ids: people and services allowed to carry out deploys
    approval: ApprovalRule  # deploy approvals; exclude holds the `separate` list
    builders: frozenset[str]  # service ids trusted for build provenance
    checks: CheckRule | None
    freeze: tuple[FreezeWindow, ...]
    break_glass: frozenset[str]  # person ids allowed to break glass
    rule: RuleRef


@dataclass(frozen=True)
class Policy:
    """A loaded, validated policy. Immutable; build it with ``twokey.policy.load``."""

    version: int
    source: str  # the file it was loaded from, as named in findings
    digest: str  # "sha256:<hex>" of the exact file bytes
    principals: Mapping[str, Principal]
    groups: Mapping[str, frozenset[str]]
    refs: tuple[RefRule, ...]
    environments: Mapping[str, EnvironmentRule]
    policy_change: ApprovalRule
    policy_path: str = ".twokey/policy.yml"
    aliases: Mapping[Alias, str] = field(default_factory=dict)
    key_validity: Mapping[Alias, KeyValidity] = field(default_factory=dict)
    # Who may review a break-glass after the fact (ADR 0009); None: any other person.
    break_glass_reviewers: frozenset[str] | None = None

    @cached_property
    def memo(self) -> dict[type, object]:
        """Lookups derived from this policy alone, by their type (the engine keeps its index
        here, ``twokey.engine._cache``): built on first use and dropped with the policy object.
        Not part of the policy's value: not a field, so never compared, printed or serialised.
        """
        return {}

    def resolve(self, alias: Alias | None) -> Principal | None:
        """The principal an alias belongs to, or None (unknown never satisfies a rule)."""
        if alias is None:
            return None
        principal_id = self.aliases.get(alias)
        return self.principals[principal_id] if principal_id is not None else None

    def ref_rule(self, ref: str) -> RefRule | None:
        """The rule that protects ``ref``; None when unprotected.

        A loaded policy has at most one matching rule (overlapping patterns are a load error,
        ADR 0012); for a policy built in code, the first in file order.
        """
        for rule in self.refs:
            if rule.matches(ref):
                return rule
        return None
