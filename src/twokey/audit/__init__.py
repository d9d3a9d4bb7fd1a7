"""The separation-of-duties audit: every change that landed, judged by the gate's engine."""

from twokey.audit._identities import Candidate, probable_aliases
from twokey.audit._model import ApproverRow, AuditChange, AuditReport, Signal
from twokey.audit._render import ReportFormat, render
from twokey.audit._run import AuditOptions, run_audit

__all__ = [
    "ApproverRow",
    "AuditChange",
    "AuditOptions",
    "AuditReport",
    "Candidate",
    "ReportFormat",
    "Signal",
    "probable_aliases",
    "render",
    "run_audit",
]
