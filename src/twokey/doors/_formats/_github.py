"""GitHub Actions workflow commands: ``::error title=CODE::message`` per finding.

Values are escaped as the Actions toolkit does (``%``, CR, LF; and ``:``/``,`` in properties).
"""

from __future__ import annotations

__all__ = ["render_github"]

from twokey.doors._formats._report import Report, repo_path
from twokey.model import Severity

_COMMAND = {Severity.DENY: "error", Severity.WARN: "warning", Severity.INFO: "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report) -> str:
    """One annotation per finding (an allow with no findings prints nothing)."""
    lines = []
    for j in report.judgements:
        for f in j.decision.findings:
            message = f"{j.decision.subject}: {f.message}"
            if f.satisfy and f.severity is not Severity.INFO:
                message += f" — to satisfy: {f.satisfy}"
            props = f"title={_prop(f.code.value)}"
            if f.rule is not None:
                props = f"file={_prop(repo_path(f.rule.file))},line={f.rule.line},{props}"
            lines.append(f"::{_COMMAND[f.severity]} {props}::{_data(message)}")
    return "\n".join(lines)
