"""Rules: approvals, protected refs, path owners, checks, environments, freeze windows."""

from __future__ import annotations

__all__ = ["Scope", "parse_approval", "parse_environments", "parse_refs"]

import re
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from twokey.model import PrincipalKind, RuleRef, TrustLevel
from twokey.policy._glob import GlobError, path_glob, ref_glob
from twokey.policy._model import (
    ApprovalRule,
    CheckRule,
    EnvironmentRule,
    Exclusion,
    FreezeWindow,
    OwnerRule,
    RefRule,
)
from twokey.policy._principals import Directory
from twokey.policy._problems import Reporter, item_position, key_position

_APPROVAL_KEYS = ("approvals", "approvers", "exclude", "accept")
_REF_KEYS = (*_APPROVAL_KEYS, "force_push", "deletion", "checks", "break_glass", "owners")
_ENV_KEYS = (
    "from",
    "deployers",
    "approvals",
    "approvers",
    "separate",
    "accept",
    "builders",
    "checks",
    "freeze",
    "break_glass",
)
_DEFAULT_EXCLUDE = frozenset({Exclusion.AUTHORS, Exclusion.COMMITTERS, Exclusion.CO_AUTHORS})
_DEFAULT_SEPARATE = frozenset({Exclusion.AUTHORS, Exclusion.APPROVERS})
_DEFAULT_ACCEPT = frozenset({TrustLevel.SIGNED, TrustLevel.FORGE})
_DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_FREEZE = re.compile(r"^(\w{3})\s+(\d{1,2}):(\d{2})\s*-\s*(\w{3})\s+(\d{1,2}):(\d{2})\s+(\S+)$")


class Scope:
    """Where in the file a rule sits: its node, key and dotted path."""

    def __init__(self, report: Reporter, directory: Directory) -> None:
        self.report = report
        self.directory = directory

    def ref(self, node: Any, key: str, path: str) -> RuleRef:
        line, column = key_position(node, key)
        return RuleRef(self.report.source, line + 1, column + 1, path)

    def names(self, node: Any, key: str, *, kinds: tuple[PrincipalKind, ...]) -> frozenset[str]:
        """Resolve a list of people/services/groups at ``node[key]`` to principal ids."""
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
                "services never approve (invariant 10); builders and check "
                "signers must be services",
            )
        return {m for m in members if directory.principals[m].kind in kinds}

    def enum_set(
        self, node: Any, key: str, kind: type[Exclusion] | type[TrustLevel], default: frozenset[Any]
    ) -> frozenset[Any]:
        if key not in node:
            return default
        value = node[key]
        if not isinstance(value, list):
            self.report.value(node, key, f"'{key}' must be a list")
            return default
        out = set()
        for index, item in enumerate(value):
            try:
                out.add(kind(item))
            except ValueError:
                allowed = ", ".join(m.value for m in kind)
                self.report.item(
                    value, index, f"unknown {key} value '{item}'", f"allowed: {allowed}"
                )
        return frozenset(out)

    def integer(self, node: Any, key: str, default: int) -> int:
        value = node.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.report.value(node, key, f"'{key}' must be a whole number >= 0")
            return default
        return value

    def boolean(self, node: Any, key: str) -> bool:
        value = node.get(key, False)
        if not isinstance(value, bool):
            self.report.value(node, key, f"'{key}' must be true or false")
            return False
        return value


def parse_approval(
    scope: Scope,
    node: Any,
    path: str,
    *,
    default_count: int = 1,
    exclude_key: str = "exclude",
    default_exclude: frozenset[Exclusion] = _DEFAULT_EXCLUDE,
) -> ApprovalRule:
    """An approval rule: count, approvers (people only), exclusions, accepted trust levels."""
    count = scope.integer(node, "approvals", default_count)
    approvers = scope.names(node, "approvers", kinds=(PrincipalKind.PERSON,))
    names = tuple(node.get("approvers") or ()) if isinstance(node.get("approvers"), list) else ()
    at = "approvals" if "approvals" in node else ("approvers" if "approvers" in node else None)
    rule = scope.ref(node, at, f"{path}.{at}") if at else scope.ref(node, "", path)
    if count > 0 and not approvers and "approvers" not in node:
        scope.report.key(
            node,
            at or "",
            f"{path}: {count} approval(s) required but no 'approvers'",
            "name the groups or people who may approve",
        )
    elif count > len(approvers) and approvers:
        scope.report.value(
            node,
            "approvals",
            f"{path}: {count} approvals required but only {len(approvers)} "
            f"eligible approver(s): {', '.join(sorted(approvers))}",
            "lower the count or add approvers",
        )
    exclude = scope.enum_set(node, exclude_key, Exclusion, default_exclude)
    accept = scope.enum_set(node, "accept", TrustLevel, _DEFAULT_ACCEPT)
    if count > 0 and not approvers:
        return ApprovalRule(0, frozenset(), names, exclude, accept, rule)  # already reported
    return ApprovalRule(count, approvers, names, exclude, accept, rule)


def _checks(scope: Scope, node: Any, path: str) -> CheckRule | None:
    value = node.get("checks")
    if value is None:
        return None
    if not hasattr(value, "items"):
        scope.report.value(node, "checks", "'checks' must be {require: [...], signers: [...]}")
        return None
    scope.report.unknown_keys(value, ("require", "signers", "accept"), f"{path}.checks")
    required = value.get("require")
    if (
        not isinstance(required, list)
        or not required
        or not all(isinstance(r, str) for r in required)
    ):
        scope.report.key(node, "checks", "'checks.require' must be a non-empty list of check names")
        required = []
    signers = scope.names(value, "signers", kinds=(PrincipalKind.SERVICE,))
    if not signers:
        scope.report.key(
            node, "checks", "'checks.signers' must name the services that report checks"
        )
    accept = scope.enum_set(value, "accept", TrustLevel, frozenset({TrustLevel.SIGNED}))
    return CheckRule(tuple(required), signers, accept, scope.ref(node, "checks", f"{path}.checks"))


def _ref_pattern(
    scope: Scope, node: Any, key: str, prefix: str
) -> tuple[str, re.Pattern[str]] | None:
    pattern = key if key.startswith("refs/") else f"{prefix}{key}"
    try:
        return pattern, ref_glob(pattern)
    except GlobError as exc:
        scope.report.key(node, key, f"bad ref pattern '{key}': {exc}")
        return None


def parse_refs(scope: Scope, doc: Any) -> tuple[RefRule, ...]:
    """``branches`` then ``tags``, in file order."""
    rules: list[RefRule] = []
    for section, prefix in (("branches", "refs/heads/"), ("tags", "refs/tags/")):
        node = doc.get(section)
        if node is None:
            continue
        if not hasattr(node, "items"):
            scope.report.value(doc, section, f"'{section}' must map ref patterns to rules")
            continue
        for key, body in node.items():
            rule = _ref_rule(scope, node, str(key), body or {}, prefix, section)
            if rule is not None:
                rules.append(rule)
    return tuple(rules)


def _ref_rule(
    scope: Scope, node: Any, key: str, body: Any, prefix: str, section: str
) -> RefRule | None:
    compiled = _ref_pattern(scope, node, key, prefix)
    if not hasattr(body, "items"):
        scope.report.value(node, key, f"{section}.{key} must be a mapping")
        return None
    path = f"{section}.{key}"
    scope.report.unknown_keys(body, _REF_KEYS, path)
    approval = parse_approval(scope, body, path)
    owners = _owners(scope, body, path)
    checks = _checks(scope, body, path)
    glass = scope.names(body, "break_glass", kinds=(PrincipalKind.PERSON,))
    if compiled is None:
        return None
    return RefRule(
        compiled[0],
        compiled[1],
        approval,
        owners,
        checks,
        scope.boolean(body, "force_push"),
        scope.boolean(body, "deletion"),
        scope.ref(node, key, path),
        glass,
    )


def _owners(scope: Scope, body: Any, path: str) -> tuple[OwnerRule, ...]:
    node = body.get("owners")
    if node is None:
        return ()
    if not hasattr(node, "items"):
        scope.report.value(body, "owners", "'owners' must map path globs to approval rules")
        return ()
    out = []
    for pattern, rule_node in node.items():
        where = f"{path}.owners.{pattern}"
        if not hasattr(rule_node, "items"):
            scope.report.value(node, pattern, f"{where} must be {{approvals: N, approvers: [...]}}")
            continue
        scope.report.unknown_keys(rule_node, _APPROVAL_KEYS, where)
        approval = parse_approval(scope, rule_node, where)
        try:
            regex = path_glob(str(pattern))
        except GlobError as exc:
            scope.report.key(node, pattern, f"bad path pattern '{pattern}': {exc}")
            continue
        out.append(OwnerRule(str(pattern), regex, approval, scope.ref(node, pattern, where)))
    return tuple(out)


def parse_environments(scope: Scope, doc: Any) -> dict[str, EnvironmentRule]:
    """The ``environments`` section."""
    node = doc.get("environments")
    if node is None:
        return {}
    if not hasattr(node, "items"):
        scope.report.value(doc, "environments", "'environments' must map names to rules")
        return {}
    out = {}
    for name, body in node.items():
        if not hasattr(body, "items"):
            scope.report.value(node, name, f"environments.{name} must be a mapping")
            continue
        out[str(name)] = _environment(scope, node, str(name), body)
    return out


def _environment(scope: Scope, node: Any, name: str, body: Any) -> EnvironmentRule:
    path = f"environments.{name}"
    scope.report.unknown_keys(body, _ENV_KEYS, path)
    sources = body.get("from")
    if not isinstance(sources, list) or not sources:
        scope.report.key(node, name, f"{path}.from must list the refs deploys may come from")
        sources = []
    compiled = [
        c
        for c in (_ref_pattern(scope, sources, str(s), "refs/heads/") for s in sources)
        if c is not None
    ]
    everyone = (PrincipalKind.PERSON, PrincipalKind.SERVICE)
    deployers = scope.names(body, "deployers", kinds=everyone)
    if not deployers:
        scope.report.key(node, name, f"{path}.deployers must name who may deploy")
    builders = scope.names(body, "builders", kinds=(PrincipalKind.SERVICE,))
    if not builders:
        scope.report.key(node, name, f"{path}.builders must name the trusted build services")
    approval = parse_approval(
        scope, body, path, exclude_key="separate", default_exclude=_DEFAULT_SEPARATE
    )
    return EnvironmentRule(
        name,
        tuple(p for p, _ in compiled),
        tuple(r for _, r in compiled),
        deployers,
        approval,
        builders,
        _checks(scope, body, path),
        _freeze(scope, body, path),
        scope.names(body, "break_glass", kinds=(PrincipalKind.PERSON,)),
        scope.ref(node, name, path),
    )


def _freeze(scope: Scope, body: Any, path: str) -> tuple[FreezeWindow, ...]:
    value = body.get("freeze")
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        scope.report.value(body, "freeze", "'freeze' must be a list of windows")
        return ()
    out = []
    for index, text in enumerate(value):
        window = _window(scope, value, index, text, f"{path}.freeze[{index}]")
        if window is not None:
            out.append(window)
    return tuple(out)


def _window(scope: Scope, seq: Any, index: int, text: Any, path: str) -> FreezeWindow | None:
    hint = "format: 'Fri 16:00 - Mon 08:00 Europe/Berlin'"
    match = _FREEZE.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        scope.report.item(seq, index, f"bad freeze window {text!r}", hint)
        return None
    day1, h1, m1, day2, h2, m2, zone = match.groups()
    if day1.lower() not in _DAYS or day2.lower() not in _DAYS:
        scope.report.item(seq, index, f"bad day in freeze window {text!r}", hint)
        return None
    if int(h1) > 23 or int(h2) > 23 or int(m1) > 59 or int(m2) > 59:
        scope.report.item(seq, index, f"bad time in freeze window {text!r}", hint)
        return None
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        scope.report.item(
            seq,
            index,
            f"unknown time zone '{zone}'",
            "use an IANA name such as Europe/Berlin or UTC",
        )
        return None
    line, column = item_position(seq, index)
    rule = RuleRef(scope.report.source, line + 1, column + 1, path)
    return FreezeWindow(
        text,
        _DAYS[day1.lower()],
        time(int(h1), int(m1)),
        _DAYS[day2.lower()],
        time(int(h2), int(m2)),
        zone,
        rule,
    )
