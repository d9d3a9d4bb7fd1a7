"""Facts from a git repository: ranges, commits, trailers, signatures, evidence refs.

Also the two git doors: the pre-receive hook (``twokey hook``) and ``twokey check``.

Names are imported on first use (PEP 562): the hook's entry point (``python -m twokey.git``)
must start fast, and importing every door's formats and installers would cost it time.
"""

from __future__ import annotations

from importlib import import_module

# Not ``typing.TYPE_CHECKING``: importing typing costs the hook's start-up ~20 ms.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from twokey._gitrunner import GitConfig, GitError, GitResult, GitRunner
    from twokey.git._base_policy import base_policy
    from twokey.git._check import CheckRequest, read_evidence_files, run_check
    from twokey.git._commits import parse_log
    from twokey.git._entry import hook_main
    from twokey.git._evidence import EnvelopeSource, RawEnvelope
    from twokey.git._formats import Report, ReportFormat, render
    from twokey.git._gate import Gate, Judgement
    from twokey.git._history import (
        Record,
        brought_commits,
        commit_of,
        first_parent_batches,
        first_parent_history,
        first_parent_records,
    )
    from twokey.git._hook import HookOutcome, push_options, run_hook
    from twokey.git._install import install_hook, resolve_git_dir, uninstall_hook
    from twokey.git._policy_source import NoPolicyError, TrustedPolicy, load_blob, trusted_policy
    from twokey.git._pusher import key_fingerprint, pusher_from_env
    from twokey.git._reader import GitReader, RefTip
    from twokey.git._record import ledger_entries, record
    from twokey.git._repository import RepositorySettings, repository_settings
    from twokey.git._reviews import (
        REVIEW_TRAILERS,
        landing_heads,
        trailer_approvals,
        trailer_idents,
    )
    from twokey.git._server import serve
    from twokey.git._trailers import (
        co_authors,
        last_paragraph,
        paragraph_trailers,
        parse_ident,
        parse_trailers,
    )
    from twokey.git._updates import RefUpdate, parse_updates

_LAZY = {
    "base_policy": "twokey.git._base_policy",
    "Record": "twokey.git._history",
    "brought_commits": "twokey.git._history",
    "commit_of": "twokey.git._history",
    "first_parent_batches": "twokey.git._history",
    "first_parent_history": "twokey.git._history",
    "first_parent_records": "twokey.git._history",
    "REVIEW_TRAILERS": "twokey.git._reviews",
    "landing_heads": "twokey.git._reviews",
    "trailer_approvals": "twokey.git._reviews",
    "trailer_idents": "twokey.git._reviews",
    "last_paragraph": "twokey.git._trailers",
    "paragraph_trailers": "twokey.git._trailers",
    "CheckRequest": "twokey.git._check",
    "EnvelopeSource": "twokey.git._evidence",
    "Gate": "twokey.git._gate",
    "GitConfig": "twokey._gitrunner",
    "GitError": "twokey._gitrunner",
    "GitResult": "twokey._gitrunner",
    "GitRunner": "twokey._gitrunner",
    "GitReader": "twokey.git._reader",
    "HookOutcome": "twokey.git._hook",
    "Judgement": "twokey.git._gate",
    "NoPolicyError": "twokey.git._policy_source",
    "RawEnvelope": "twokey.git._evidence",
    "RefTip": "twokey.git._reader",
    "RefUpdate": "twokey.git._updates",
    "Report": "twokey.git._formats",
    "ReportFormat": "twokey.git._formats",
    "RepositorySettings": "twokey.git._repository",
    "TrustedPolicy": "twokey.git._policy_source",
    "co_authors": "twokey.git._trailers",
    "hook_main": "twokey.git._entry",
    "install_hook": "twokey.git._install",
    "key_fingerprint": "twokey.git._pusher",
    "load_blob": "twokey.git._policy_source",
    "ledger_entries": "twokey.git._record",
    "parse_ident": "twokey.git._trailers",
    "parse_log": "twokey.git._commits",
    "parse_trailers": "twokey.git._trailers",
    "parse_updates": "twokey.git._updates",
    "push_options": "twokey.git._hook",
    "pusher_from_env": "twokey.git._pusher",
    "read_evidence_files": "twokey.git._check",
    "record": "twokey.git._record",
    "render": "twokey.git._formats",
    "repository_settings": "twokey.git._repository",
    "resolve_git_dir": "twokey.git._install",
    "run_check": "twokey.git._check",
    "run_hook": "twokey.git._hook",
    "serve": "twokey.git._server",
    "trusted_policy": "twokey.git._policy_source",
    "uninstall_hook": "twokey.git._install",
}

__all__ = [
    "REVIEW_TRAILERS",
    "CheckRequest",
    "EnvelopeSource",
    "Gate",
    "GitConfig",
    "GitError",
    "GitReader",
    "GitResult",
    "GitRunner",
    "HookOutcome",
    "Judgement",
    "NoPolicyError",
    "RawEnvelope",
    "Record",
    "RefTip",
    "RefUpdate",
    "Report",
    "ReportFormat",
    "RepositorySettings",
    "TrustedPolicy",
    "base_policy",
    "brought_commits",
    "co_authors",
    "commit_of",
    "first_parent_batches",
    "first_parent_history",
    "first_parent_records",
    "hook_main",
    "install_hook",
    "key_fingerprint",
    "landing_heads",
    "last_paragraph",
    "ledger_entries",
    "load_blob",
    "paragraph_trailers",
    "parse_ident",
    "parse_log",
    "parse_trailers",
    "parse_updates",
    "push_options",
    "pusher_from_env",
    "read_evidence_files",
    "record",
    "render",
    "repository_settings",
    "resolve_git_dir",
    "run_check",
    "run_hook",
    "serve",
    "trailer_approvals",
    "trailer_idents",
    "trusted_policy",
    "uninstall_hook",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'twokey.git' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
