"""The hook as a process: read git's input and environment, print the report, exit.

``python -m twokey.git hook-run`` (what ``hook install`` writes into the hook, kept there so
that hooks installed earlier keep working) and ``python -m twokey.doors hook-run`` both run
:func:`process_main`.
"""

from __future__ import annotations

__all__ = ["end_process", "hook_main", "process_main"]

import gc
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from twokey.errors import ExitCode, TwokeyError

_ZERO = "0" * 40  # model.ZERO_SHA: a ref that does not exist (yet)


def hook_main(
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    *,
    now: datetime | None = None,
    start_early: bool = False,
) -> int:
    """Run the pre-receive hook in the current process; returns the exit code for git.

    git runs the hook with ``GIT_DIR`` set (githooks(5)); anything unexpected is exit 3,
    which rejects the push like a deny does (fail closed). ``start_early``: the hook is this
    process's only work (``process_main``, never the warm server's threads): its first git
    reads start before its modules are imported (ADR 0035).
    """
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    try:
        # First: every record after it comes from precompiled code, without inspect (ADR 0036).
        import twokey._dataclass_fast  # noqa: F401, PLC0415

        git_dir = Path(os.environ.get("GIT_DIR", ".")).resolve()
        updates = stdin.read()
        if start_early:
            _start_reads(git_dir, updates)
        from twokey.doors._formats._report import Report  # noqa: PLC0415
        from twokey.doors._formats._text import render_text  # noqa: PLC0415
        from twokey.doors._hook import run_hook  # noqa: PLC0415

        when = now or datetime.now(UTC)
        outcome = run_hook(git_dir, updates, dict(os.environ), when, start_early=start_early)
        print(render_text(Report(outcome.judgements)), file=out)
        return outcome.exit_code
    except TwokeyError as exc:
        print(f"twokey: push refused: {exc.diagnostics()}", file=out)
        return int(exc.exit_code) or ExitCode.INTERNAL
    except Exception as exc:  # fail closed: the push is refused with the reason
        print(f"twokey: push refused: internal error: {type(exc).__name__}: {exc}", file=out)
        return ExitCode.INTERNAL
    finally:
        if start_early:
            from twokey._gitrunner import GitRunner  # noqa: PLC0415

            GitRunner.discard_started()


def _start_reads(git_dir: Path, updates: str) -> None:
    """Start the hook's first git reads (its settings, the refs, the policy, the evidence
    objects the push brings) with exactly the reader ``run_hook`` builds (the same directory
    and environment), which then takes them."""
    from twokey.doors._hookenv import hook_env  # noqa: PLC0415
    from twokey.doors._policy_source import POLICY_PATH  # noqa: PLC0415
    from twokey.git import EnvelopeSource, GitReader, start_settings  # noqa: PLC0415

    reader = GitReader(git_dir, hook_env(dict(os.environ)))
    start_settings(reader.git)
    reader.start_reads(POLICY_PATH)
    EnvelopeSource.start_pending(reader, _new_evidence(updates))


def _new_evidence(updates: str) -> list[str]:
    """What the evidence refs a push creates point at, from git's ``<old> <new> <ref>`` lines
    (``parse_updates`` reads them for the judgement; a line it refuses starts nothing)."""
    # Imported here, not with this module: process_main turns the collector off first.
    from twokey._evidence_refs import NAMESPACE  # noqa: PLC0415

    found = []
    for line in updates.splitlines():
        old, _, rest = line.partition(" ")
        new, _, ref = rest.partition(" ")
        if ref.startswith(NAMESPACE) and old == _ZERO and new != _ZERO:
            found.append(new)
    return found


_USAGE = "usage: python -m twokey.git hook-run [--socket PATH]  (git runs this as pre-receive)"


def process_main(args: list[str], *, collecting: bool | None = None) -> int:
    """The installed hook's process: ``hook-run [--socket PATH]`` or ``post-receive-run``.

    It skips the full command line (which imports every command group) so that the hook starts
    fast; with ``--socket PATH`` (written into the hook by ``hook install --server-socket``,
    never taken from the environment) it first hands the push to a warm ``twokey hook serve``
    process and only judges in-process when none answers. ``twokey hook run`` does the same.

    ``collecting``: whether the cyclic collector was on before the process's entry module turned
    it off for its imports (``python -m twokey.doors``, ADR 0040); None: as it is now.
    """
    if args == ["post-receive-run"]:  # what landed (docs/hook.md, ADR 0015)
        if collecting:
            gc.enable()
        from twokey.doors._landed import post_receive_main  # noqa: PLC0415

        return post_receive_main()
    if args[:1] != ["hook-run"] or len(args) not in (1, 3) or args[1:2] not in ([], ["--socket"]):
        print(_USAGE, file=sys.stderr)
        return 2
    # One push, then the process ends: no cyclic garbage collection (ADR 0035).
    gc.disable()
    if len(args) == 3:  # the warm server's client (and socket) only when one is installed
        from twokey.doors._client import forward  # noqa: PLC0415

        code = forward(sys.stdin, sys.stdout, args[2])
        if code is not None:
            return end_process(code)
    return end_process(hook_main(start_early=True))


def end_process(code: int) -> int:
    """End this process now with ``code``, its output written, skipping the interpreter's
    teardown (ADR 0035): a door's process has answered, and tearing down every module it
    imported (with the collections that go with it) is a tenth of its instructions.

    Only the process's own entry points call it, once the answer is printed. Standard output
    and error are flushed first; when that fails (a closed pipe, a full disk) it returns
    ``code`` and the interpreter ends as usual, reporting the failure as it always did. No
    atexit handler is skipped that matters: twokey registers none, and whatever a door
    records (the ledger) is committed before it answers.
    """
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return code
    os._exit(code)
