"""The hook as a process: read git's input and environment, print the report, exit."""

from __future__ import annotations

__all__ = ["hook_main"]

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from twokey.errors import ExitCode, TwokeyError


def hook_main(
    stdin: TextIO | None = None, out: TextIO | None = None, *, now: datetime | None = None
) -> int:
    """Run the pre-receive hook in the current process; returns the exit code for git.

    git runs the hook with ``GIT_DIR`` set (githooks(5)); anything unexpected is exit 3,
    which rejects the push like a deny does (fail closed).
    """
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    try:
        from twokey.git._formats._report import Report  # noqa: PLC0415
        from twokey.git._formats._text import render_text  # noqa: PLC0415
        from twokey.git._hook import run_hook  # noqa: PLC0415

        git_dir = Path(os.environ.get("GIT_DIR", ".")).resolve()
        when = now or datetime.now(UTC)
        outcome = run_hook(git_dir, stdin.read(), dict(os.environ), when)
        print(render_text(Report(outcome.judgements)), file=out)
        return outcome.exit_code
    except TwokeyError as exc:
        print(f"twokey: push refused: {exc.diagnostics()}", file=out)
        return int(exc.exit_code) or ExitCode.INTERNAL
    except Exception as exc:  # fail closed: the push is refused with the reason
        print(f"twokey: push refused: internal error: {type(exc).__name__}: {exc}", file=out)
        return ExitCode.INTERNAL
