"""The post-receive record: which ref updates actually landed (issue 14, hole 5; ADR 0015).

The pre-receive hook records what it *allowed*; git may still refuse an allowed update (two
concurrent pushes race for a ref and one loses; an atomic push fails on another ref; an
invalid push option). githooks(5): ``post-receive`` runs after the refs were updated, with one
``<old> <new> <ref>`` line per ref that was *actually* updated. It appends one ``landed`` entry
per line, so ``break-glass list`` and the audit can tell an allowed break-glass that landed
from one that never did. Nothing can be refused any more at this point: a failure is reported
to the pusher and the exit status is non-zero, but the push stands.
"""

from __future__ import annotations

__all__ = ["landed_entries", "post_receive_main", "record_landed"]

import os
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from twokey._gitrunner import GitConfig, GitRunner
from twokey.doors._record import record
from twokey.errors import ExitCode, TwokeyError
from twokey.git import RefUpdate, parse_updates, repository_settings

if TYPE_CHECKING:
    from twokey.ledger import Entry


def landed_entries(updates: Sequence[RefUpdate], repository: str, now: datetime) -> list[Entry]:
    """One ``landed`` record per ref update git made."""
    from twokey.ledger import LandedRecord, to_entry  # noqa: PLC0415 - lazy: hook start-up time

    return [
        to_entry(LandedRecord("git-post-receive", repository, u.ref, u.old, u.new), now)
        for u in updates
    ]


def record_landed(git_dir: Path, stdin: str, env: Mapping[str, str], now: datetime) -> list[int]:
    """Record what landed in the ledger ``twokey.ledger`` names; [] without a ledger.

    Raises:
        InfrastructureError: the ledger cannot be written (or its checkpoint signed).
    """
    settings = repository_settings(GitRunner(git_dir, config=GitConfig.ISOLATED), env)
    updates = parse_updates(stdin)
    if not settings.ledger or not updates:
        return []
    entries = landed_entries(updates, settings.repository, now)
    return record(settings.ledger, entries, key=settings.ledger_key)


def post_receive_main(stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    """Run as git's post-receive hook; the exit status cannot undo the push."""
    out = out or sys.stdout
    try:
        git_dir = Path(os.environ.get("GIT_DIR", ".")).resolve()
        record_landed(git_dir, (stdin or sys.stdin).read(), os.environ, datetime.now(UTC))
    except TwokeyError as exc:
        print(f"twokey: the push landed but was not recorded: {exc.message}", file=out)
        return int(exc.exit_code) or ExitCode.INTERNAL
    except Exception as exc:  # reported, never silent
        print(
            f"twokey: the push landed but was not recorded: {type(exc).__name__}: {exc}", file=out
        )
        return ExitCode.INTERNAL
    return ExitCode.ALLOW
