"""Environments: where deploys come from, who carries them out and approves, freeze windows."""

from __future__ import annotations

__all__ = ["parse_environments", "parse_freeze_window"]

import re
from datetime import time
from typing import Any

from twokey._lazy import lazy_pattern
from twokey.model import RuleRef
from twokey.policy._model import EnvironmentRule, FreezeWindow
from twokey.policy._problems import item_position
from twokey.policy._rules import parse_checks, ref_pattern
from twokey.policy._scope import (
    ANYONE,
    DEFAULT_SEPARATE,
    DEPLOY_EXCLUSIONS,
    PEOPLE,
    SERVICES,
    Scope,
    parse_approval,
)

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
_ENV_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # used with fullmatch
_DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_FREEZE = lazy_pattern(  # compiled when first used: most policies freeze nothing (ADR 0040)
    r"^(?P<d1>[A-Za-z]{3})\s+(?P<h1>\d{2}):(?P<m1>\d{2})\s*-\s*"
    r"(?P<d2>[A-Za-z]{3})\s+(?P<h2>\d{2}):(?P<m2>\d{2})\s+(?P<tz>\S+)$",
    globals(),
)
_FREEZE_HINT = "format: 'Ddd HH:MM - Ddd HH:MM Zone', e.g. 'Fri 16:00 - Mon 08:00 Europe/Berlin'"


def parse_environments(scope: Scope, doc: Any) -> dict[str, EnvironmentRule]:
    """The ``environments`` section."""
    node = doc.get("environments")
    if node is None:
        return {}
    if not hasattr(node, "items"):
        scope.report.value(doc, "environments", "'environments' must map names to rules")
        return {}
    out = {}
    for key, body in node.items():
        name = str(key)
        if not _ENV_NAME.fullmatch(name):
            scope.report.key(node, key, f"invalid environment name '{name}'", "[A-Za-z0-9._-]")
        elif not hasattr(body, "items"):
            scope.report.value(node, key, f"environments.{name} must be a mapping")
        else:
            out[name] = _environment(scope, node, key, body)
    return out


def _environment(scope: Scope, node: Any, key: object, body: Any) -> EnvironmentRule:
    path = f"environments.{key}"
    scope.report.unknown_keys(body, _ENV_KEYS, path)
    sources = body.get("from")
    if isinstance(sources, str):
        sources = [sources]
    if not isinstance(sources, list) or not sources:
        scope.report.key(
            node, key, f"{path}.from must list the refs deploys may come from", "e.g. [main]"
        )
        sources = []
    compiled = [ref_pattern(scope, sources, s, "refs/heads/", i) for i, s in enumerate(sources)]
    deployers = scope.names(body, "deployers", kinds=ANYONE)
    if not deployers:
        scope.report.key(node, key, f"{path}.deployers must name who may deploy")
    builders = scope.names(body, "builders", kinds=SERVICES)
    if not builders:
        scope.report.key(node, key, f"{path}.builders must name the trusted build services")
    approval = parse_approval(
        scope,
        body,
        path,
        exclude_key="separate",
        default_exclude=DEFAULT_SEPARATE,
        allowed_exclude=DEPLOY_EXCLUSIONS,
    )
    return EnvironmentRule(
        name=str(key),
        from_refs=tuple(c[0] for c in compiled if c),
        from_regexes=tuple(c[1] for c in compiled if c),
        deployers=deployers,
        approval=approval,
        builders=builders,
        checks=parse_checks(scope, body, path),
        freeze=_freeze(scope, body, path),
        break_glass=scope.names(body, "break_glass", kinds=PEOPLE),
        rule=scope.ref(node, key, path),
    )


def _freeze(scope: Scope, body: Any, path: str) -> tuple[FreezeWindow, ...]:
    value = body.get("freeze")
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        scope.report.value(body, "freeze", "'freeze' must be a list of windows", _FREEZE_HINT)
        return ()
    out = []
    for index, text in enumerate(value):
        line, column = item_position(value, index)
        rule = RuleRef(scope.report.source, line + 1, column + 1, f"{path}.freeze[{index}]")
        try:
            out.append(parse_freeze_window(text, rule))
        except ValueError as exc:
            hint = "use an IANA name such as Europe/Berlin or UTC" if "zone" in str(exc) else ""
            scope.report.item(value, index, str(exc), hint or _FREEZE_HINT)
    return tuple(out)


def parse_freeze_window(text: object, rule: RuleRef) -> FreezeWindow:
    """Parse ``Ddd HH:MM - Ddd HH:MM Zone`` (a weekly window in an IANA time zone).

    Raises:
        ValueError: with a message naming what is wrong (syntax, day, time, zone, empty).
    """
    match = _FREEZE.match(text.strip()) if isinstance(text, str) else None
    if match is None or not isinstance(text, str):
        raise ValueError(f"bad freeze window {text!r}")
    parts = match.groupdict()
    days = (parts["d1"].lower(), parts["d2"].lower())
    if days[0] not in _DAYS or days[1] not in _DAYS:
        raise ValueError(f"bad day in freeze window {text!r} (Mon, Tue, ... Sun)")
    hours, minutes = (int(parts["h1"]), int(parts["h2"])), (int(parts["m1"]), int(parts["m2"]))
    if max(hours) > 23 or max(minutes) > 59:
        raise ValueError(f"bad time in freeze window {text!r} (00:00 to 23:59)")
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415 - only with a window

    try:
        ZoneInfo(parts["tz"])
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone '{parts['tz']}'") from exc
    start, end = time(hours[0], minutes[0]), time(hours[1], minutes[1])
    if (_DAYS[days[0]], start) == (_DAYS[days[1]], end):
        raise ValueError(f"empty freeze window {text!r} (it starts when it ends)")
    return FreezeWindow(
        text=text.strip(),
        start_day=_DAYS[days[0]],
        start=start,
        end_day=_DAYS[days[1]],
        end=end,
        tz=parts["tz"],
        rule=rule,
    )
