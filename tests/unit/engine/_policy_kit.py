"""A fluent builder of compiled policies that mirrors the policy file, for spec-level tests.

``test_built_policies`` uses it to compile the WALKTHROUGH company by hand (people with
several keys and emails, services, nested groups, branch/tag/owner/check rules, environments
with freeze windows), so that the engine's corner cases are pinned to the contract types and
can be compared with the YAML loader's result. Keys are seeded exactly like ``world``'s, so
the same evidence resolves the same way under both policies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tests.unit.engine.world import key
from twokey.model import Alias, AliasKind, PrincipalKind, RuleRef, TrustLevel
from twokey.policy import (
    ApprovalRule,
    CheckRule,
    EnvironmentRule,
    Exclusion,
    OwnerRule,
    Policy,
    Principal,
    RefRule,
    parse_freeze_window,
    path_glob,
    ref_glob,
)

SOURCE = "built.yml"
DEFAULT_EXCLUDE = frozenset({Exclusion.AUTHORS, Exclusion.COMMITTERS, Exclusion.CO_AUTHORS})
DEFAULT_ACCEPT = frozenset({TrustLevel.SIGNED, TrustLevel.FORGE})
Checks = tuple[tuple[str, ...], tuple[str, ...]]  # (check names, signer names)


@dataclass
class PolicyKit:
    """Add people, services and groups first, then rules; ``build()`` returns the Policy."""

    domain: str = "example.com"
    _principals: dict[str, Principal] = field(default_factory=dict)
    _aliases: dict[Alias, str] = field(default_factory=dict)
    _groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _refs: list[RefRule] = field(default_factory=list)
    _envs: dict[str, EnvironmentRule] = field(default_factory=dict)
    _change: tuple[int, tuple[str, ...], frozenset[Exclusion]] = (1, (), frozenset())
    _line: int = 1

    def person(self, pid: str, *, keys: int = 1, emails: Iterable[str] = ()) -> PolicyKit:
        """A person: ``<pid>@<domain>``, extra ``emails``, github ``pid`` and ``keys`` keys."""
        extra = (Alias.login(AliasKind.GITHUB, pid), *(Alias.email(e) for e in emails))
        return self._principal(pid, PrincipalKind.PERSON, keys, extra, ())

    def service(self, sid: str, *, keys: int = 1, directed_by: tuple[str, ...] = ()) -> PolicyKit:
        """A service (CI, bot, AI agent); ``directed_by`` people count among its authors."""
        return self._principal(sid, PrincipalKind.SERVICE, keys, (), directed_by)

    def group(self, name: str, *members: str) -> PolicyKit:
        """A group of principals or other groups (resolved when a rule names it)."""
        self._groups[name] = members
        return self

    def branch(
        self,
        pattern: str,
        *,
        approvals: int = 1,
        approvers: tuple[str, ...] = (),
        exclude: frozenset[Exclusion] = DEFAULT_EXCLUDE,
        accept: frozenset[TrustLevel] = DEFAULT_ACCEPT,
        checks: Checks | None = None,
        break_glass: tuple[str, ...] = (),
        owners: dict[str, tuple[int, tuple[str, ...]]] | None = None,
    ) -> PolicyKit:
        """A ref rule; a pattern without ``refs/`` means ``refs/heads/<pattern>``."""
        ref = pattern if pattern.startswith("refs/") else f"refs/heads/{pattern}"
        path = f"branches.{ref}"
        where = self._where(path)
        owner_rules = tuple(
            OwnerRule(
                glob,
                path_glob(glob),
                self._approval(f"{path}.owners.{glob}", n, who, exclude, accept),
                self._where(f"{path}.owners.{glob}"),
            )
            for glob, (n, who) in (owners or {}).items()
        )
        self._refs.append(
            RefRule(
                ref,
                ref_glob(ref),
                self._approval(path, approvals, approvers, exclude, accept),
                owner_rules,
                self._checks(path, checks),
                False,
                False,
                where,
                self._resolve(break_glass),
            )
        )
        return self

    def environment(
        self,
        name: str,
        *,
        deployers: tuple[str, ...],
        approvers: tuple[str, ...],
        builders: tuple[str, ...],
        approvals: int = 1,
        checks: Checks | None = None,
        freeze: tuple[str, ...] = (),
        break_glass: tuple[str, ...] = (),
    ) -> PolicyKit:
        """A deploy environment from ``main``, separating authors and approvers (the default)."""
        path = f"environments.{name}"
        where = self._where(path)
        separate = frozenset({Exclusion.AUTHORS, Exclusion.APPROVERS})
        self._envs[name] = EnvironmentRule(
            name,
            ("refs/heads/main",),
            (ref_glob("refs/heads/main"),),
            self._resolve(deployers),
            self._approval(path, approvals, approvers, separate, DEFAULT_ACCEPT),
            self._resolve(builders),
            self._checks(path, checks),
            tuple(parse_freeze_window(w, self._where(f"{path}.freeze")) for w in freeze),
            self._resolve(break_glass),
            where,
        )
        return self

    def policy_changes(self, approvals: int, approvers: tuple[str, ...]) -> PolicyKit:
        """k-of-n sign-off for the policy file; ``exclude`` defaults to [] (ADR 0007)."""
        self._change = (approvals, approvers, frozenset())
        return self

    def build(self) -> Policy:
        """The frozen policy (no digest: built in code)."""
        count, approvers, exclude = self._change
        change = self._approval("policy_changes", count, approvers, exclude, DEFAULT_ACCEPT)
        groups = {g: self._resolve((g,)) for g in self._groups}
        return Policy(
            1, SOURCE, "", dict(self._principals), groups, tuple(self._refs), dict(self._envs),
            change, aliases=dict(self._aliases),
        )  # fmt: skip

    def _principal(
        self,
        pid: str,
        kind: PrincipalKind,
        keys: int,
        extra: tuple[Alias, ...],
        directed_by: tuple[str, ...],
    ) -> PolicyKit:
        aliases = (
            Alias.email(f"{pid}@{self.domain}"),
            *extra,
            *(key(pid, i) for i in range(keys)),
        )
        where = self._where(f"{kind.value}s.{pid}")
        self._principals[pid] = Principal(pid, pid.title(), kind, aliases, where, directed_by)
        self._aliases.update(dict.fromkeys(aliases, pid))
        return self

    def _where(self, path: str) -> RuleRef:
        self._line += 1
        return RuleRef(SOURCE, self._line, 3, path)

    def _resolve(self, names: Iterable[str], seen: frozenset[str] = frozenset()) -> frozenset[str]:
        out: set[str] = set()
        for name in names:
            if name in self._principals:
                out.add(name)
            elif name in self._groups and name not in seen:
                out |= self._resolve(self._groups[name], seen | {name})
            else:
                raise ValueError(f"unknown or cyclic group or principal: {name}")
        return frozenset(out)

    def _approval(
        self,
        path: str,
        count: int,
        approvers: tuple[str, ...],
        exclude: frozenset[Exclusion],
        accept: frozenset[TrustLevel],
    ) -> ApprovalRule:
        # As the loader does: approver sets hold people only (services never approve).
        people = frozenset(p for p in self._resolve(approvers) if self._principals[p].is_person)
        where = self._where(f"{path}.approvals")
        return ApprovalRule(count, people, approvers, exclude, accept, where)

    def _checks(self, path: str, spec: Checks | None) -> CheckRule | None:
        if spec is None:
            return None
        names, signers = spec
        return CheckRule(
            names, self._resolve(signers), DEFAULT_ACCEPT, self._where(f"{path}.checks")
        )
