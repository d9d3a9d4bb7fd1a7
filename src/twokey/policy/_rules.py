"""Protected refs: approvals, path owners, checks, force-push, deletion, break-glass."""

from __future__ import annotations

__all__ = ["parse_checks", "parse_refs", "ref_pattern"]

from typing import Any

from twokey.model import TrustLevel
from twokey.policy._glob import Glob, GlobError, GlobKind, OverlapBudget, glob_to_regex, overlap
from twokey.policy._model import CheckRule, OwnerRule, RefRule
from twokey.policy._scope import PEOPLE, SERVICES, Scope, parse_approval

_APPROVAL_KEYS = ("approvals", "approvers", "exclude", "accept", "count_applied")
_REF_KEYS = (
    *_APPROVAL_KEYS,
    "force_push",
    "deletion",
    "checks",
    "break_glass",
    "owners",
    "signed_commits",
    "unknown_authors",
    "move",
)
_UNKNOWN_AUTHORS = ("deny", "allow")
# A pushed policy change is loaded by the hook: its size must not buy unbounded work (the
# overlap check compares every pair of rules). Real policies have tens of rules.
MAX_REF_RULES = 500
_CHECK_KEYS = ("require", "signers", "accept")
_SECTIONS = (("branches", "refs/heads/"), ("tags", "refs/tags/"))


def ref_pattern(
    scope: Scope, node: Any, key: object, prefix: str, at_item: int | None = None
) -> tuple[str, Glob] | None:
    """Expand a short ref pattern (``main`` -> ``refs/heads/main``) and compile it.

    The problem, if any, is reported at the key ``key`` of ``node``, or at item ``at_item``
    when ``node`` is a sequence.
    """
    text = str(key)
    pattern = text if text.startswith("refs/") else f"{prefix}{text}"
    try:
        return pattern, glob_to_regex(pattern, GlobKind.REF)
    except GlobError as exc:
        message = f"bad ref pattern '{text}': {exc}"
        hint = "'*' matches within one path segment, '**' across segments"
        if at_item is None:
            scope.report.key(node, key, message, hint)
        else:
            scope.report.item(node, at_item, message, hint)
        return None


def parse_refs(scope: Scope, doc: Any) -> tuple[RefRule, ...]:
    """``branches`` then ``tags``, in file order (the first matching rule governs a ref)."""
    rules: list[RefRule] = []
    where: dict[int, tuple[Any, object]] = {}
    seen: dict[str, str] = {}
    for section, prefix in _SECTIONS:
        node = doc.get(section)
        if node is None:
            continue
        if not hasattr(node, "items"):
            scope.report.value(doc, section, f"'{section}' must map ref patterns to rules")
            continue
        for key, body in node.items():
            rule = _ref_rule(scope, node, key, body, prefix, section)
            if rule is None:
                continue
            first = seen.setdefault(rule.pattern, f"{section}.{key}")
            if first != f"{section}.{key}":
                scope.report.key(
                    node,
                    key,
                    f"'{key}' is the same ref pattern as {first} ({rule.pattern})",
                    "the first matching rule governs a ref: merge the two rules",
                )
            if len(rules) == MAX_REF_RULES:
                scope.report.key(
                    node,
                    key,
                    f"more than {MAX_REF_RULES} ref rules",
                    "use patterns ('release/*') instead of one rule per ref",
                )
                return tuple(rules)
            rules.append(rule)
            where[id(rule)] = (node, key)
    _overlaps(scope, rules, where)
    return tuple(rules)


def _overlaps(scope: Scope, rules: list[RefRule], where: dict[int, tuple[Any, object]]) -> None:
    """Two rules that can match one ref are an error (ADR 0012): one ref, one rule.

    Otherwise the first in file order would govern silently and ``policy show`` would name
    approvers of the second who never count for such a ref.
    """
    budget = OverlapBudget()
    for i, later in enumerate(rules):
        for earlier in rules[:i]:
            if earlier.pattern == later.pattern:
                continue  # reported as the same pattern
            example = overlap(earlier.regex, later.regex, budget)
            if budget.spent:
                scope.report.at(
                    0,
                    0,
                    "the ref patterns are too many or too intricate to check that no two "
                    "rules match one ref",
                    "use fewer, simpler patterns",
                )
                return
            if example is not None:
                node, key = where[id(later)]
                scope.report.key(
                    node,
                    key,
                    f"'{later.pattern}' and '{earlier.pattern}' ({earlier.rule.path}) both "
                    f"match {example}: a ref is governed by exactly one rule",
                    "narrow one of the patterns so that no ref matches both",
                )


def _ref_rule(
    scope: Scope, node: Any, key: object, body: Any, prefix: str, section: str
) -> RefRule | None:
    compiled = ref_pattern(scope, node, key, prefix)
    pattern = compiled[0] if compiled else str(key)
    path = f"{section}.{pattern}"
    if body is None:
        scope.report.key(
            node,
            key,
            f"{path} has no rules",
            "give it e.g. '{approvals: 1, approvers: [reviewers]}' (or 'approvals: 0')",
        )
        return None
    if not hasattr(body, "items"):
        scope.report.value(node, key, f"{path} must be a mapping")
        return None
    scope.report.unknown_keys(body, _REF_KEYS, path)
    approval = parse_approval(scope, body, path, applied=True)
    owners = _owners(scope, body, path)
    checks = parse_checks(scope, body, path)
    glass = scope.names(body, "break_glass", kinds=PEOPLE)
    force_push = scope.boolean(body, "force_push")
    deletion = scope.boolean(body, "deletion")
    signed = scope.boolean(body, "signed_commits")
    unknown = _unknown_authors(scope, body)
    move = _move(scope, body, path, compiled[0] if compiled else "")
    if compiled is None:
        return None
    return RefRule(
        pattern=pattern,
        regex=compiled[1],
        approval=approval,
        owners=owners,
        checks=checks,
        allow_force_push=force_push,
        allow_deletion=deletion,
        rule=scope.ref(node, key, path),
        break_glass=glass,
        signed_commits=signed,
        allow_unknown_authors=unknown,
        allow_move=move,
    )


def _unknown_authors(scope: Scope, body: Any) -> bool:
    """``unknown_authors: deny`` (the default) or ``allow`` (a loosening, ADR 0012)."""
    value = body.get("unknown_authors", "deny")
    if value not in _UNKNOWN_AUTHORS:
        scope.report.value(
            body,
            "unknown_authors",
            f"'unknown_authors' must be 'deny' or 'allow', got {value!r}",
            "'allow' lets commits by people the policy does not know land (outside "
            "contributors); their approvals still never count",
        )
        return False
    return bool(value == "allow")


def _move(scope: Scope, body: Any, path: str, pattern: str) -> bool:
    """``move: true`` lets a protected tag be moved (ADR 0011); branches always move forward."""
    move = scope.boolean(body, "move")
    if move and pattern and not pattern.startswith("refs/tags/"):
        scope.report.value(
            body,
            "move",
            f"{path}: 'move' applies to tags only (a branch moves forward by fast-forward)",
            "remove 'move', or use 'force_push: true' to allow rewriting a branch",
        )
    return move


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
        approval = parse_approval(scope, rule_node, where, applied=True)
        try:
            regex = glob_to_regex(str(pattern), GlobKind.PATH)
        except GlobError as exc:
            scope.report.key(
                node,
                pattern,
                f"bad path pattern '{pattern}': {exc}",
                "e.g. 'deploy/**', '*.md', '/docs/'",
            )
            continue
        out.append(OwnerRule(str(pattern), regex, approval, scope.ref(node, pattern, where)))
    return tuple(out)


def parse_checks(scope: Scope, node: Any, path: str) -> CheckRule | None:
    """``checks: {require: [...], signers: [...]}`` (invariant 13); signers are services."""
    value = node.get("checks")
    if value is None:
        return None
    if not hasattr(value, "items"):
        scope.report.value(
            node,
            "checks",
            "'checks' must be a mapping",
            "e.g. {require: [tests], signers: [ci]}",
        )
        return None
    scope.report.unknown_keys(value, _CHECK_KEYS, f"{path}.checks")
    required = value.get("require")
    if isinstance(required, str):
        required = [required]
    if (
        not isinstance(required, list)
        or not required
        or not all(isinstance(r, str) and r.strip() for r in required)
    ):
        at = "require" if "require" in value else None
        target, key = (value, at) if at else (node, "checks")
        scope.report.key(target, key, "'checks.require' must be a non-empty list of check names")
        required = []
    signers = scope.names(value, "signers", kinds=SERVICES)
    if not signers and "signers" not in value:
        scope.report.key(
            node, "checks", "'checks.signers' must name the services that report checks"
        )
    elif not signers:
        scope.report.value(value, "signers", "'checks.signers' names no service")
    accept = scope.enum_set(value, "accept", TrustLevel, frozenset({TrustLevel.SIGNED}))
    if value.get("accept") == []:
        scope.report.value(
            value,
            "accept",
            f"{path}.checks: 'accept' lists no trust level, so no check result could ever count",
            "e.g. [signed]",
        )
    rule = scope.ref(node, "checks", f"{path}.checks")
    return CheckRule(tuple(dict.fromkeys(required)), signers, accept, rule)
