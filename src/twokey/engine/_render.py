"""Decisions for humans (explain) and for machines (canonical JSON)."""

from __future__ import annotations

__all__ = ["decision_from_dict", "decision_json", "explain"]

import json
from typing import Any

from twokey._text import printable
from twokey.model import (
    Counted,
    Decision,
    Excluded,
    Finding,
    FindingCode,
    RuleRef,
    Severity,
    Verdict,
)

_MARK = {Severity.DENY: "✗", Severity.WARN: "!", Severity.INFO: "·"}


def decision_json(decision: Decision) -> str:
    """Canonical JSON: sorted keys, compact; equal decisions give identical bytes."""
    return json.dumps(decision.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def explain(decision: Decision) -> str:
    """A decision for people: the verdict, each finding with its rule (``file:line``) and what
    would satisfy it, then per rule that applied who counted and who did not, and why."""
    lines = [f"{decision.verdict.value.upper()}: {decision.subject}"]
    if decision.break_glass:
        lines.append("  BREAK-GLASS: allowed as an open exception until reviewed by someone else")
    for finding in decision.findings:
        lines.append(f"  {_MARK[finding.severity]} {finding.code.value}: {finding.message}")
        if finding.rule is not None:
            lines.append(f"      rule: {finding.rule}")
        if finding.satisfy and finding.severity is not Severity.INFO:
            lines.append(f"      to satisfy: {finding.satisfy}")
    lines += _rules(decision)
    if decision.policy_digest:
        lines.append(f"  policy: {decision.policy_digest}")
    return "\n".join(printable(line) for line in lines)  # names and subjects: no escapes


def _rules(decision: Decision) -> list[str]:
    """Who counted and who did not, grouped by the rule (key path) they were counted for."""
    rules = sorted({c.rule for c in decision.counted} | {e.rule for e in decision.excluded})
    if not rules:
        return []
    lines = ["  rules applied:"]
    for rule in rules:
        counted = [c for c in decision.counted if c.rule == rule]
        lines.append(f"    {rule}: {len(counted)} counted")
        lines += [
            f"      + {c.person} ({c.trust}, {c.evidence or 'no evidence id'})" for c in counted
        ]
        lines += [f"      - {e.who}: {e.reason}" for e in decision.excluded if e.rule == rule]
    return lines


def decision_from_dict(data: Any) -> Decision:
    """Parse a decision as printed by :func:`decision_json` (raises ValueError when malformed)."""
    try:
        return Decision(
            Verdict(data["verdict"]),
            str(data["subject"]),
            tuple(_finding(f) for f in data["findings"]),
            tuple(
                Counted(str(c["rule"]), str(c["person"]), str(c["evidence"]), str(c["trust"]))
                for c in data.get("counted", [])
            ),
            tuple(
                Excluded(str(e["rule"]), str(e["who"]), str(e["reason"]))
                for e in data.get("excluded", [])
            ),
            str(data.get("policy_digest", "")),
            bool(data.get("break_glass", False)),
        )
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ValueError(f"not a twokey decision: missing or bad field {exc}") from exc


def _finding(data: Any) -> Finding:
    rule = data.get("rule")
    return Finding(
        FindingCode(data["code"]),
        Severity(data["severity"]),
        str(data["message"]),
        str(data.get("satisfy", "")),
        RuleRef(str(rule["file"]), int(rule["line"]), int(rule["column"]), str(rule["path"]))
        if rule
        else None,
        tuple(data.get("people", ())),
        tuple(data.get("commits", ())),
    )
