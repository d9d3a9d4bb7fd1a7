"""Per-policy lookups computed once: the engine is called many times with one policy.

A door loads its policy once and then decides every ref update of a push (and a gateway every
request) with the same object, so work that depends on the policy alone (alias resolution,
which rule protects a ref, which owner globs match a path) is memoised per policy object.
The index lives in the policy object's own ``memo`` (``Policy.memo``): it is built on first
use and dropped with the policy, for policies built in code (no digest) as well as loaded ones.
"""

from __future__ import annotations

__all__ = ["PolicyIndex", "Roster", "index_of"]

from collections.abc import Collection
from dataclasses import dataclass
from typing import TypeVar

from twokey.model import Alias, Counted
from twokey.policy import ApprovalRule, Lookalikes, OwnerRule, Policy, Principal, RefRule
from twokey.policy import derived_aliases as _derived

# Bound the memo tables: a long-running gateway sees unbounded distinct refs and paths.
_MAX_MEMO = 50_000
_K = TypeVar("_K")
_V = TypeVar("_V")


@dataclass(frozen=True, slots=True, eq=False)
class Roster:
    """A rule's people in order and their names joined by ", ", to name all but a few of them
    without a pass over hundreds of people per change (a real history's default policy)."""

    names: tuple[str, ...]
    text: str  # ", ".join(names)
    index: dict[str, int]  # name -> its position in names
    starts: tuple[int, ...]  # where each name starts in text

    @classmethod
    def of(cls, people: Collection[str]) -> Roster:
        names = tuple(sorted(people))
        starts, at = [], 0
        for name in names:
            starts.append(at)
            at += len(name) + 2
        return cls(names, ", ".join(names), {n: i for i, n in enumerate(names)}, tuple(starts))

    def without(self, removed: Collection[str]) -> tuple[int, str]:
        """How many names are left once ``removed`` (names of the roster) are taken out, and
        those names joined by ", ", in order: ``", ".join(n for n in names if n not in
        removed)``, cut from ``text`` around the removed ones."""
        cuts = sorted(self.index[n] for n in removed)
        pieces, start = [], 0
        for cut in (*cuts, len(self.names)):
            if cut > start:  # the names start .. cut-1, as they stand in text
                end = self.starts[cut - 1] + len(self.names[cut - 1])
                pieces.append(self.text[self.starts[start] : end])
            start = cut + 1
        return len(self.names) - len(cuts), ", ".join(pieces)


class PolicyIndex:
    """Memoised lookups for one policy (read-only views of it; never changes a decision)."""

    def __init__(self, policy: Policy) -> None:
        self.principals = policy.principals
        self._alias_table = policy.aliases
        self._rules = policy.refs
        self.people = frozenset(p.id for p in policy.principals.values() if p.is_person)
        self._who: dict[tuple[str, str], tuple[str, ...]] = {}
        self._aliases: dict[Alias, str | None] = {}
        self._refs: dict[str, RefRule | None] = {}
        self._owners: dict[tuple[int, tuple[str, ...]], tuple[tuple[OwnerRule, str], ...]] = {}
        self._people_in: dict[int, frozenset[str]] = {}
        self._rosters: dict[int, Roster] = {}
        self._counted: dict[tuple[str, str, str, str], Counted] = {}
        self._lookalikes: Lookalikes | None = None
        self._claims: dict[str, tuple[str, ...]] = {}

    def who_by_email(self, email: str, name: str) -> tuple[str, ...]:
        """Person ids behind a git identity (plus the people directing an agent), or the alias.

        ``email`` is the identity's email ("" when git recorded none). The rules are ADR
        0012's (``twokey.policy._identities``): the exact alias, the address without its
        ``+tag`` or a forge no-reply address's login, a look-alike of any of these. An identity
        that resolves to nobody comes back as its alias (``email:...`` or ``name:<name>``,
        never a principal id: unknown never satisfies a rule), followed by the people whose
        name it looks like, who may then not approve it either.
        """
        key = (email, name)
        found = self._who.get(key)
        if found is None:
            found = self._resolve_email(email, name)
            self._remember(self._who, key, found)
        return found

    def _resolve_email(self, email: str, name: str) -> tuple[str, ...]:
        ids = self.principals_of(email, name)
        if not ids:
            address = email.strip()
            unknown = str(Alias.email(address)) if address else f"name:{name}"
            return (unknown, *self.lookalikes().name(name))
        out = dict.fromkeys(ids)
        for pid in ids:
            # An AI agent's work counts against the people who direct it (invariant 10).
            out.update(dict.fromkeys(self.principals[pid].directed_by))
        return tuple(out)

    def principals_of(self, email: str, name: str) -> tuple[str, ...]:
        """The principals (people or services) a git identity claims to be; () for nobody.

        Its email exactly, else the address without ``+tag`` or a no-reply address's forge
        login, else every principal with a look-alike of one of these (ADR 0012). ``name``
        is not used: a name alone names nobody.
        """
        found = self._claims.get(email)
        if found is None:
            found = self._claimed(email.strip())
            self._remember(self._claims, email, found)
        return found

    def _claimed(self, address: str) -> tuple[str, ...]:
        if not address:
            return ()
        candidates = ((Alias.email(address), address), *_derived(address))
        for candidate, _ in candidates:
            found = self.principal_id(candidate)
            if found is not None:
                return (found,)
        lookalikes = self.lookalikes()
        return tuple(dict.fromkeys(p for c, w in candidates for p in lookalikes.alias(c, w)))

    def lookalikes(self) -> Lookalikes:
        """The policy's names by skeleton (built on the first identity that needs it)."""
        if self._lookalikes is None:
            names = {p.id: (p.id, p.name) for p in self.principals.values() if p.is_person}
            self._lookalikes = Lookalikes(self._alias_table, names)
        return self._lookalikes

    def principal_id(self, alias: Alias) -> str | None:
        """The principal an alias belongs to (None when unknown)."""
        try:
            return self._aliases[alias]
        except KeyError:
            found = self._alias_table.get(alias)
            if found is not None:
                _ = self.principals[found]  # as Policy.resolve: a dangling alias is an error
            self._remember(self._aliases, alias, found)
            return found

    def resolve(self, alias: Alias) -> Principal | None:
        """``policy.resolve(alias)``, memoised."""
        found = self.principal_id(alias)
        return self.principals[found] if found is not None else None

    def ref_rule(self, ref: str) -> RefRule | None:
        """``policy.ref_rule(ref)`` (the first matching rule in file order), memoised."""
        try:
            return self._refs[ref]
        except KeyError:
            found = next((rule for rule in self._rules if rule.matches(ref)), None)
            self._remember(self._refs, ref, found)
            return found

    def owned(self, rule: RefRule, paths: tuple[str, ...]) -> tuple[tuple[OwnerRule, str], ...]:
        """The owner rules of ``rule`` matching any of ``paths`` (file order), each with the
        matching paths as a short text for messages (memoised per set of changed paths)."""
        key = (id(rule), paths)
        found = self._owners.get(key)
        if found is None:
            found = tuple(
                (owner, _listing(sorted(p for p in paths if owner.matches(p))))
                for owner in rule.owners
                if any(owner.matches(p) for p in paths)
            )
            self._remember(self._owners, key, found)
        return found

    def people_in(self, rule: ApprovalRule) -> frozenset[str]:
        """The approvers of ``rule`` that are people: a service never counts (invariant 10),
        even when a hand-built policy lists one."""
        found = self._people_in.get(id(rule))
        if found is None:
            found = rule.approvers & self.people
            self._remember(self._people_in, id(rule), found)
        return found

    def roster(self, rule: ApprovalRule) -> Roster:
        """:meth:`people_in` as a :class:`Roster` (findings name them in order)."""
        found = self._rosters.get(id(rule))
        if found is None:
            found = Roster.of(self.people_in(rule))
            self._remember(self._rosters, id(rule), found)
        return found

    def counted(self, rule: str, person: str, evidence: str, trust: str) -> Counted:
        """An (immutable, shared) ``Counted`` record: building a frozen dataclass is slow."""
        key = (rule, person, evidence, trust)
        found = self._counted.get(key)
        if found is None:
            found = Counted(rule, person, evidence, trust)
            self._remember(self._counted, key, found)
        return found

    @staticmethod
    def _remember(table: dict[_K, _V], key: _K, value: _V) -> None:
        if len(table) >= _MAX_MEMO:
            table.clear()
        table[key] = value


def _listing(paths: list[str]) -> str:
    more = f", +{len(paths) - 3} more" if len(paths) > 3 else ""
    return ", ".join(paths[:3]) + more


def index_of(policy: Policy) -> PolicyIndex:
    """The index of ``policy``, built on first use and kept in (and dropped with) the policy."""
    found = policy.memo.get(PolicyIndex)
    if isinstance(found, PolicyIndex):
        return found
    index = policy.memo[PolicyIndex] = PolicyIndex(policy)
    return index
