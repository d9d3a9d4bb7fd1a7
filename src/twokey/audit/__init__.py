"""The separation-of-duties audit: every change that landed, judged by the gate's engine."""

from twokey.audit._identities import Candidate, probable_aliases
from twokey.audit._model import ApproverRow, AuditChange, Deployment, Signal, Totals, summarise
from twokey.audit._render import ReportFormat, render, write_report
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
    "ReportFormat",
    "Signal",
    "SignalStats",
    "Spool",
    "TimedApproval",
    "Totals",
    "implausibly_fast",
    "probable_aliases",
    "render",
    "risk_signals",
    "run_audit",
    "summarise",
    "text_errors",
    "write_report",
]
