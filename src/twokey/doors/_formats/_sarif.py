"""SARIF 2.1.0 (OASIS): one result per finding, ``ruleId`` = the finding code.

Findings are about refs and commits, not source lines; a result whose rule has a policy
location points at the policy file line (SARIF 2.1.0 section 3.28 ``location``).
"""

from __future__ import annotations

__all__ = ["render_sarif"]

import json
from typing import Any

from twokey import __version__
from twokey.doors._formats._report import Report, repo_path
from twokey.model import Finding, FindingCode, Severity

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.DENY: "error", Severity.WARN: "warning", Severity.INFO: "note"}


def render_sarif(report: Report) -> str:
    """A SARIF log with one run of the ``twokey`` tool."""
    results = [
        _result(f, j.decision.subject) for j in report.judgements for f in j.decision.findings
    ]
    codes = sorted({r["ruleId"] for r in results})
    run = {
        "tool": {
            "driver": {
                "name": "twokey",
                "version": __version__,
                "informationUri": "https://twokey.dev/docs/findings",
                "rules": [_rule(FindingCode(c)) for c in codes],
            }
        },
        "results": results,
    }
    return json.dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2)


def _rule(code: FindingCode) -> dict[str, Any]:
    return {"id": code.value, "name": code.value.title().replace("_", "")}


def _result(finding: Finding, subject: str) -> dict[str, Any]:
    text = f"{subject}: {finding.message}"
    if finding.satisfy and finding.severity is not Severity.INFO:
        text += f" (to satisfy: {finding.satisfy})"
    result: dict[str, Any] = {
        "ruleId": finding.code.value,
        "level": _LEVEL[finding.severity],
        "message": {"text": text},
        "properties": {"people": list(finding.people), "commits": list(finding.commits)},
    }
    if finding.rule is not None:
        result["locations"] = [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": repo_path(finding.rule.file)},
                    "region": {
                        "startLine": max(finding.rule.line, 1),
                        "startColumn": max(finding.rule.column, 1),
                    },
                }
            }
        ]
    return result
