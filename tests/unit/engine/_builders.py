"""Build compiled ``Policy`` objects directly in code (no YAML), for engine tests.

The YAML loader has its own tests; these builders pin the engine to the *contract* types, so
an engine test never depends on how the loader spells a default.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from twokey.model import Alias, PrincipalKind, RuleRef, TrustLevel
from twokey.policy import (
    ApprovalRule,
    CheckRule,
    EnvironmentRule,
    Exclusion,
    OwnerRule,
    Policy,
    Principal,
    RefRule,
    path_glob,
    ref_glob,
)

DEFAULT_EXCLUDE = frozenset({Exclusion.AUTHORS, Exclusion.COMMITTERS, Exclusion.CO_AUTHORS})
DEFAULT_ACCEPT = frozenset({TrustLevel.SIGNED, TrustLevel.FORGE})


def where(path: str, line: int = 1) -> RuleRef:
    """A rule reference in the builder's imaginary file ``code.yml``."""
    return RuleRef("code.yml", line, 1, path)


def approval(
    count: int,
    approvers: Iterable[str],
    path: str,
    *,
    exclude: Iterable[Exclusion] = DEFAULT_EXCLUDE,
    accept: Iterable[TrustLevel] = DEFAULT_ACCEPT,
) -> ApprovalRule:
    """``count`` approvals from ``approvers`` (person ids, also used as their names)."""
    people = tuple(approvers)
    return ApprovalRule(
        count, frozenset(people), people, frozenset(exclude), frozenset(accept), where(path)
    )


@dataclass
class PolicyBuilder:
    """Collects principals and rules, then ``build()`` a frozen ``Policy``."""

    principals: dict[str, Principal] = field(default_factory=dict)
    aliases: dict[Alias, str] = field(default_factory=dict)
    refs: list[RefRule] = field(default_factory=list)
    environments: dict[str, EnvironmentRule] = field(default_factory=dict)
    admins: tuple[str, ...] = ()

    def person(self, pid: str, *aliases: Alias) -> PolicyBuilder:
        """A person known by ``aliases``."""
        return self._principal(pid, PrincipalKind.PERSON, aliases, ())

    def service(
        self, pid: str, *aliases: Alias, directed_by: tuple[str, ...] = ()
    ) -> PolicyBuilder:
        """A service (bot, CI, agent); ``directed_by`` people count among its authors."""
        return self._principal(pid, PrincipalKind.SERVICE, aliases, directed_by)

    def _principal(
        self, pid: str, kind: PrincipalKind, aliases: tuple[Alias, ...], directed: tuple[str, ...]
    ) -> PolicyBuilder:
        self.principals[pid] = Principal(
            pid, pid.title(), kind, aliases, where(f"people.{pid}"), directed
        )
        for alias in aliases:
            self.aliases[alias] = pid
        return self

    def branch(
        self,
        pattern: str,
        rule: ApprovalRule,
        *,
        owners: dict[str, ApprovalRule] | None = None,
        checks: CheckRule | None = None,
        break_glass: Iterable[str] = (),
        force_push: bool = False,
        deletion: bool = False,
        unknown_authors: bool = False,
        signed_commits: bool = False,
    ) -> PolicyBuilder:
        """A protected ref rule (``pattern`` a full ref glob)."""
        self.refs.append(
            RefRule(
                pattern,
                ref_glob(pattern),
                rule,
                tuple(
                    OwnerRule(glob, path_glob(glob), owner, owner.rule)
                    for glob, owner in (owners or {}).items()
                ),
                checks,
                force_push,
                deletion,
                where(f"branches.{pattern}"),
                frozenset(break_glass),
                signed_commits=signed_commits,
                allow_unknown_authors=unknown_authors,
            )
        )
        return self

    def environment(self, env: EnvironmentRule) -> PolicyBuilder:
        """A deploy environment."""
        self.environments[env.name] = env
        return self

    def build(self, admins: Iterable[str], count: int = 2, digest: str = "") -> Policy:
        """The policy; ``admins`` sign off policy changes (``count`` of them, ADR 0007)."""
        return Policy(
            version=1,
            source="code.yml",
            digest=digest,
            principals=dict(self.principals),
            groups={},
            refs=tuple(self.refs),
            environments=dict(self.environments),
            policy_change=approval(count, admins, "policy_changes.approvals", exclude=()),
            aliases=dict(self.aliases),
        )


def checks(*names: str, signers: Iterable[str] = ("ci",)) -> CheckRule:
    """Required checks signed by ``signers``."""
    return CheckRule(names, frozenset(signers), DEFAULT_ACCEPT, where("checks"))
