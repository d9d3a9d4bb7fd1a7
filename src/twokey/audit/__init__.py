"""The separation-of-duties audit: every change that landed, judged by the gate's engine.

Names are imported on first use (PEP 562): ``twokey audit`` starts its first git reads
(``twokey.audit._early``) before it imports the walk, the engine and the renderers.
"""

from __future__ import annotations

# Not ``typing.TYPE_CHECKING``: as in ``twokey.git``, typing is not imported for this.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from twokey.audit._early import run_audit
    from twokey.audit._exceptions import (
        GlassException,
        exception_of,
        read_exceptions,
        require_ledger,
    )
    from twokey.audit._identities import Candidate, history_idents, identities_map, probable_aliases
    from twokey.audit._model import ApproverRow, AuditChange, Deployment, Signal, Totals, summarise
    from twokey.audit._options import AuditOptions
    from twokey.audit._org import (
        OrgReport,
        RepoSummary,
        find_repositories,
        repo_summary,
        write_org_report,
    )
    from twokey.audit._render import ReportFormat, exception_text, is_open, render, write_report
    from twokey.audit._report import TEXT_ERRORS, AuditReport, Spool, text_errors
    from twokey.audit._signals import SignalStats, TimedApproval, implausibly_fast, risk_signals

_LAZY = {
    "ApproverRow": "twokey.audit._model",
    "AuditChange": "twokey.audit._model",
    "AuditOptions": "twokey.audit._options",
    "AuditReport": "twokey.audit._report",
    "Candidate": "twokey.audit._identities",
    "Deployment": "twokey.audit._model",
    "GlassException": "twokey.audit._exceptions",
    "OrgReport": "twokey.audit._org",
    "RepoSummary": "twokey.audit._org",
    "ReportFormat": "twokey.audit._render",
    "Signal": "twokey.audit._model",
    "SignalStats": "twokey.audit._signals",
    "Spool": "twokey.audit._report",
    "TEXT_ERRORS": "twokey.audit._report",
    "TimedApproval": "twokey.audit._signals",
    "Totals": "twokey.audit._model",
    "exception_of": "twokey.audit._exceptions",
    "exception_text": "twokey.audit._render",
    "find_repositories": "twokey.audit._org",
    "history_idents": "twokey.audit._identities",
    "identities_map": "twokey.audit._identities",
    "implausibly_fast": "twokey.audit._signals",
    "is_open": "twokey.audit._render",
    "probable_aliases": "twokey.audit._identities",
    "read_exceptions": "twokey.audit._exceptions",
    "render": "twokey.audit._render",
    "repo_summary": "twokey.audit._org",
    "require_ledger": "twokey.audit._exceptions",
    "risk_signals": "twokey.audit._signals",
    "run_audit": "twokey.audit._early",
    "summarise": "twokey.audit._model",
    "text_errors": "twokey.audit._report",
    "write_org_report": "twokey.audit._org",
    "write_report": "twokey.audit._render",
}

__all__ = [
    "TEXT_ERRORS",
    "ApproverRow",
    "AuditChange",
    "AuditOptions",
    "AuditReport",
    "Candidate",
    "Deployment",
    "GlassException",
    "OrgReport",
    "RepoSummary",
    "ReportFormat",
    "Signal",
    "SignalStats",
    "Spool",
    "TimedApproval",
    "Totals",
    "exception_of",
    "exception_text",
    "find_repositories",
    "history_idents",
    "identities_map",
    "implausibly_fast",
    "is_open",
    "probable_aliases",
    "read_exceptions",
    "render",
    "repo_summary",
    "require_ledger",
    "risk_signals",
    "run_audit",
    "summarise",
    "text_errors",
    "write_org_report",
    "write_report",
]

# mypy sees only the typed imports above; at run time the names load on first use (PEP 562).
if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        """Import ``_LAZY[name]``'s module once and keep the value (as ``twokey._lazy`` does
        for ``twokey.git``; the layering rules keep the audit to its own helpers)."""
        from importlib import import_module  # noqa: PLC0415

        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(import_module(module), name)
        globals()[name] = value  # later look-ups never come back here
        return value


def __dir__() -> list[str]:
    return sorted(__all__)
