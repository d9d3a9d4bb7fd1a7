"""Facts from a git repository: ranges, commits, trailers, signatures, evidence refs.

Only git facts live here: the reader, commits and trailers, the first-parent history, the
evidence refs, the ref updates of a push, the repository's settings, and the one git runner
(``twokey._gitrunner``). The doors that judge them (the hook, ``twokey check``) are in
``twokey.doors``; ``python -m twokey.git hook-run`` stays as a shim for hooks installed earlier.

Names are imported on first use (PEP 562): the hook's entry point must start fast.
"""

from __future__ import annotations

# Not ``typing.TYPE_CHECKING``: importing typing costs the hook's start-up ~20 ms.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from twokey._gitrunner import GitConfig, GitError, GitResult, GitRunner
    from twokey.git._commits import LOG_ARGS, parse_log
    from twokey.git._evidence import EnvelopeSource, RawEnvelope
    from twokey.git._history import (
        Record,
        brought_commits,
        commit_of,
        first_parent_batches,
        first_parent_history,
        first_parent_records,
    )
    from twokey.git._merges import MergeRuns
    from twokey.git._reader import GitReader, RefTip
    from twokey.git._remote import ls_remote_args, start_first_reads, start_ls_remote
    from twokey.git._repository import RepositorySettings, repository_settings, start_settings
    from twokey.git._resolution import (
        MergeResolution,
        merge_resolution,
        merge_resolutions,
        plain_diff_config,
    )
    from twokey.git._reviews import (
        REVIEW_TRAILERS,
        applied_approval,
        claimed_approvals,
        landing_heads,
        trailer_approvals,
        trailer_idents,
    )
    from twokey.git._trailers import (
        co_authors,
        last_paragraph,
        paragraph_trailers,
        parse_ident,
        parse_trailers,
    )
    from twokey.git._updates import RefUpdate, parse_updates

_LAZY = {
    "EnvelopeSource": "twokey.git._evidence",
    "GitConfig": "twokey._gitrunner",
    "GitError": "twokey._gitrunner",
    "GitReader": "twokey.git._reader",
    "GitResult": "twokey._gitrunner",
    "GitRunner": "twokey._gitrunner",
    "LOG_ARGS": "twokey.git._commits",
    "MergeResolution": "twokey.git._resolution",
    "MergeRuns": "twokey.git._merges",
    "REVIEW_TRAILERS": "twokey.git._reviews",
    "RawEnvelope": "twokey.git._evidence",
    "Record": "twokey.git._history",
    "RefTip": "twokey.git._reader",
    "RefUpdate": "twokey.git._updates",
    "RepositorySettings": "twokey.git._repository",
    "applied_approval": "twokey.git._reviews",
    "brought_commits": "twokey.git._history",
    "claimed_approvals": "twokey.git._reviews",
    "co_authors": "twokey.git._trailers",
    "commit_of": "twokey.git._history",
    "first_parent_batches": "twokey.git._history",
    "first_parent_history": "twokey.git._history",
    "first_parent_records": "twokey.git._history",
    "landing_heads": "twokey.git._reviews",
    "last_paragraph": "twokey.git._trailers",
    "merge_resolution": "twokey.git._resolution",
    "merge_resolutions": "twokey.git._resolution",
    "paragraph_trailers": "twokey.git._trailers",
    "parse_ident": "twokey.git._trailers",
    "parse_log": "twokey.git._commits",
    "parse_trailers": "twokey.git._trailers",
    "parse_updates": "twokey.git._updates",
    "plain_diff_config": "twokey.git._resolution",
    "repository_settings": "twokey.git._repository",
    "start_settings": "twokey.git._repository",
    "ls_remote_args": "twokey.git._remote",
    "start_first_reads": "twokey.git._remote",
    "start_ls_remote": "twokey.git._remote",
    "trailer_approvals": "twokey.git._reviews",
    "trailer_idents": "twokey.git._reviews",
}

__all__ = [
    "LOG_ARGS",
    "REVIEW_TRAILERS",
    "EnvelopeSource",
    "GitConfig",
    "GitError",
    "GitReader",
    "GitResult",
    "GitRunner",
    "MergeResolution",
    "MergeRuns",
    "RawEnvelope",
    "Record",
    "RefTip",
    "RefUpdate",
    "RepositorySettings",
    "applied_approval",
    "brought_commits",
    "claimed_approvals",
    "co_authors",
    "commit_of",
    "first_parent_batches",
    "first_parent_history",
    "first_parent_records",
    "landing_heads",
    "last_paragraph",
    "ls_remote_args",
    "merge_resolution",
    "merge_resolutions",
    "paragraph_trailers",
    "parse_ident",
    "parse_log",
    "parse_trailers",
    "parse_updates",
    "plain_diff_config",
    "repository_settings",
    "start_first_reads",
    "start_ls_remote",
    "start_settings",
    "trailer_approvals",
    "trailer_idents",
]


# mypy sees only the typed imports above, so a name that is not exported is an error there;
# at run time the names load on first use (PEP 562).
if not TYPE_CHECKING:
    from twokey._lazy import lazy_names

    __getattr__ = lazy_names(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(__all__)
