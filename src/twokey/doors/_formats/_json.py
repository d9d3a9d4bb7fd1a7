"""JSON: ``{"allowed", "repository", "policy", "decisions": [...]}``, read by ``twokey explain``."""

from __future__ import annotations

__all__ = ["render_json"]

import json

from twokey.doors._formats._report import Report


def render_json(report: Report) -> str:
    """Stable, indented JSON; each decision as ``Decision.to_dict`` plus its ref update."""
    decisions = []
    for j in report.judgements:
        item = j.decision.to_dict()
        item["update"] = {"ref": j.update.ref, "old": j.update.old, "new": j.update.new}
        item["evidence"] = list(j.evidence)
        decisions.append(item)
    data = {
        "allowed": report.allowed,
        "repository": report.repository,
        "policy": report.policy_origin,
        "decisions": decisions,
    }
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
