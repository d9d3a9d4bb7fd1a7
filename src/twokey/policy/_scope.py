"""Typed readers over the YAML nodes, and the approval rule every section shares."""

from __future__ import annotations

__all__ = [
    "CHANGE_EXCLUSIONS",
    "DEFAULT_ACCEPT",
    "DEFAULT_EXCLUDE",
    "DEFAULT_SEPARATE",
    "DEPLOY_EXCLUSIONS",
    "Scope",
    "parse_approval",
]

import enum
from typing import Any, TypeVar

from twokey.model import PrincipalKind, RuleRef, TrustLevel
from twokey.policy._model import ApprovalRule, Exclusion
from twokey.policy._principals import Directory
from twokey.policy._problems import Reporter, key_position, node_position

# Which exclusions make sense where (docs/policy.md, "Exclusions"): a name the engine would
# ignore in a place must be refused, or the policy would read stricter than it is.
CHANGE_EXCLUSIONS = frozenset(
    {Exclusion.AUTHORS, Exclusion.COMMITTERS, Exclusion.CO_AUTHORS, Exclusion.LAST_PUSHER}
)
DEPLOY_EXCLUSIONS = frozenset({Exclusion.AUTHORS, Exclusion.APPROVERS})
DEFAULT_EXCLUDE = frozenset({Exclusion.AUTHORS, Exclusion.COMMITTERS, Exclusion.CO_AUTHORS})
DEFAULT_SEPARATE = frozenset({Exclusion.AUTHORS, Exclusion.APPROVERS})
DEFAULT_ACCEPT = frozenset({TrustLevel.SIGNED, TrustLevel.FORGE})
PEOPLE = (PrincipalKind.PERSON,)
SERVICES = (PrincipalKind.SERVICE,)
ANYONE = (PrincipalKind.PERSON, PrincipalKind.SERVICE)
E = TypeVar("E", bound=enum.Enum)


class Scope:
    """The reporter and the directory of principals, with typed readers that report problems.

    Every reader returns a safe value after reporting (an empty set, the default): the loader
    keeps going to find every problem, and the policy is refused at the end anyway.
    """

    def __init__(self, report: Reporter, directory: Directory) -> None:
        self.report = report
        self.directory = directory

    def ref(self, node: Any, key: object, path: str) -> RuleRef:
        """A :class:`RuleRef` at the key ``key`` of ``node``."""
        line, column = key_position(node, key)
        return RuleRef(self.report.source, line + 1, column + 1, path)

    def names(self, node: Any, key: str, *, kinds: tuple[PrincipalKind, ...]) -> frozenset[str]:
        """Resolve the people/services/groups listed at ``node[key]`` to principal ids."""
        value = node.get(key)
        if value is None:
            return frozenset()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.report.value(node, key, f"'{key}' must be a list of names")
            return frozenset()
        out: set[str] = set()
        for index, name in enumerate(value):
            out |= self._one(value, index, name, key, kinds)
        return frozenset(out)

    def _one(
        self, seq: Any, index: int, name: str, key: str, kinds: tuple[PrincipalKind, ...]
    ) -> set[str]:
        directory = self.directory
        members = directory.groups.get(name)
        if members is None and name in directory.principals:
            members = frozenset({name})
        if members is None:
            self.report.item(seq, index, f"unknown person, service or group '{name}' in '{key}'")
            return set()
        wrong = sorted(m for m in members if directory.principals[m].kind not in kinds)
        if wrong:
            what = "services" if PrincipalKind.PERSON in kinds else "people"
            self.report.item(
                seq,
                index,
                f"'{key}' may not include {what}: {', '.join(wrong)}",
                "services never approve or break glass (invariant 10); builders and check "
                "signers must be services",
            )
        return {m for m in members if directory.principals[m].kind in kinds}

    def enum_set(
        self,
        node: Any,
        key: str,
        kind: type[E],
        default: frozenset[E],
        allowed: frozenset[E] | None = None,
    ) -> frozenset[E]:
        """A list of enum values at ``node[key]``, each one of ``allowed`` (default: all)."""
        if key not in node:
            return default
        value = node[key]
        if not isinstance(value, list):
            self.report.value(node, key, f"'{key}' must be a list")
            return default
        permitted = [m for m in kind if allowed is None or m in allowed]
        out = set()
        for index, item in enumerate(value):
            member = next((m for m in permitted if m.value == item), None)
            if member is None:
                names = ", ".join(str(m.value) for m in permitted)
                self.report.item(value, index, f"unknown {key} value {item!r}", f"allowed: {names}")
            else:
                out.add(member)
        return frozenset(out)

    def integer(self, node: Any, key: str, default: int) -> int:
        """A whole number >= 0 at ``node[key]`` (booleans are not numbers here)."""
        value = node.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.report.value(node, key, f"'{key}' must be a whole number >= 0", f"got {value!r}")
            return default
        return value

    def boolean(self, node: Any, key: str) -> bool:
        """``true``/``false`` at ``node[key]``, default false."""
        value = node.get(key, False)
        if not isinstance(value, bool):
            self.report.value(node, key, f"'{key}' must be true or false", f"got {value!r}")
            return False
        return value


def parse_approval(
    scope: Scope,
    node: Any,
    path: str,
    *,
    exclude_key: str = "exclude",
    default_exclude: frozenset[Exclusion] = DEFAULT_EXCLUDE,
    allowed_exclude: frozenset[Exclusion] = CHANGE_EXCLUSIONS,
    applied: bool = False,
) -> ApprovalRule:
    """An approval rule: count (default 1), approvers (people only), exclusions, trust levels.

    The rule's :class:`RuleRef` points at ``approvals:`` (or ``approvers:`` when the count is
    left at its default), with the path ``<path>.approvals``. ``applied``: the rule may say
    ``count_applied`` (changes reaching a ref; the caller lists the key as known).
    """
    count = scope.integer(node, "approvals", 1)
    approvers = scope.names(node, "approvers", kinds=PEOPLE)
    written = node.get("approvers")
    names = tuple(written) if isinstance(written, list) else (written,) if written else ()
    at = "approvals" if "approvals" in node else "approvers" if "approvers" in node else None
    rule = scope.ref(node, at, f"{path}.approvals") if at else _node_ref(scope, node, path)
    _check_threshold(scope, node, path, count, approvers)
    exclude = scope.enum_set(node, exclude_key, Exclusion, default_exclude, allowed_exclude)
    accept = scope.enum_set(node, "accept", TrustLevel, DEFAULT_ACCEPT)
    if count > 0 and node.get("accept") == []:
        # Fail loudly: a rule no evidence can satisfy is a misconfiguration, not a policy.
        scope.report.value(
            node,
            "accept",
            f"{path}: 'accept' lists no trust level, so no approval could ever count",
            "e.g. [signed, forge]",
        )
    counts_applied = applied and _count_applied(scope, node, path, accept)
    if count > len(approvers):
        # Already reported; the policy will not load. Keep the rule constructible.
        return ApprovalRule(0, frozenset(), names, exclude, accept, rule)
    return ApprovalRule(count, approvers, names, exclude, accept, rule, counts_applied)


def _count_applied(scope: Scope, node: Any, path: str, accept: frozenset[TrustLevel]) -> bool:
    """``count_applied: true``; applied evidence is a trailer-level claim, so a rule that does
    not accept trailers could never count it: said loudly rather than ignored."""
    value = scope.boolean(node, "count_applied")
    if value and TrustLevel.TRAILER not in accept:
        scope.report.value(
            node,
            "count_applied",
            f"{path}: 'count_applied' counts an unverified claim (trust level trailer), "
            "which 'accept' does not list",
            "add trailer to accept (e.g. accept: [signed, forge, trailer]), or drop count_applied",
        )
        return False
    return value


def _node_ref(scope: Scope, node: Any, path: str) -> RuleRef:
    line, column = node_position(node)
    return RuleRef(scope.report.source, line + 1, column + 1, f"{path}.approvals")


def _check_threshold(
    scope: Scope, node: Any, path: str, count: int, approvers: frozenset[str]
) -> None:
    """Fail closed: a count that nobody, or too few people, could ever meet is an error.

    An empty approver set must never turn into "no approval needed" (invariant 8).
    """
    if count == 0 or count <= len(approvers):
        return
    if "approvers" not in node:
        where = "approvals" if "approvals" in node else None
        line, column = key_position(node, where) if where else node_position(node)
        scope.report.at(
            line,
            column,
            f"{path}: {count} approval(s) required but no 'approvers'",
            "name the groups or people who may approve",
        )
    elif not approvers:
        scope.report.value(
            node,
            "approvers",
            f"{path}: {count} approval(s) required but 'approvers' names no person",
            "list at least one person, or a group with people in it",
        )
    else:
        scope.report.value(
            node,
            "approvals" if "approvals" in node else "approvers",
            f"{path}: {count} approvals required but only {len(approvers)} "
            f"eligible approver(s): {', '.join(sorted(approvers))}",
            "lower the count or add approvers",
        )
