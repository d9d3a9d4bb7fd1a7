"""The separation-of-duties audit: every change that landed, judged by the gate's engine."""

from twokey.audit._exceptions import GlassException, exception_of, read_exceptions, require_ledger
from twokey.audit._identities import (
    Candidate,
    history_idents,
    identities_map,
    probable_aliases,
)
from twokey.audit._model import ApproverRow, AuditChange, Deployment, Signal, Totals, summarise
from twokey.audit._org import (
    OrgReport,
    RepoSummary,
    find_repositories,
    repo_summary,
    write_org_report,
)
from twokey.audit._render import ReportFormat, exception_text, is_open, render, write_report
from twokey.audit._report import TEXT_ERRORS, AuditReport, Spool, text_errors
from twokey.audit._run import run_audit
from twokey.audit._signals import SignalStats, TimedApproval, implausibly_fast, risk_signals
from twokey.audit._walk import AuditOptions

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
