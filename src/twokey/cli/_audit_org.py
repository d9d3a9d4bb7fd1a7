"""``twokey audit --repos FILE|DIR``: many repositories, each in a worker process (ADR 0020).

A worker audits one repository exactly as ``twokey audit --repo PATH`` would and returns only
its :class:`~twokey.audit.RepoSummary`; every worker process serves one repository and exits
(``max_tasks_per_child=1``), so a large history's memory is given back before the next one
starts and the parent holds nothing but summaries.
"""

from __future__ import annotations

__all__ = ["OrgJob", "audit_many", "audit_one", "org_command"]

import argparse
import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from twokey._text import printable
from twokey.cli._output import terminal_bar
from twokey.errors import ExitCode, TwokeyError, UsageError

if TYPE_CHECKING:
    from twokey.audit import OrgReport, RepoSummary

Done = Callable[["RepoSummary"], None]


@dataclass(frozen=True)
class OrgJob:
    """What every repository is audited with (the same options for all).

    ``ref`` None means each repository's own default branch; ``policy`` None means each
    repository's own policy (or the inferred default), as for one repository.
    """

    ref: str | None = None
    since: str | None = None
    until: str | None = None
    policy: Path | None = None
    identities: dict[str, str] | None = None


def audit_one(path: str, job: OrgJob) -> RepoSummary:
    """Audit one repository and keep its summary; any failure is the repository's reason."""
    from twokey.audit import AuditOptions, RepoSummary, repo_summary, run_audit  # noqa: PLC0415
    from twokey.cli._revs import default_branch, protected_ref, repo_at  # noqa: PLC0415

    try:
        git = repo_at(path)
        options = AuditOptions(
            Path(path),
            protected_ref(git, job.ref),
            job.since,
            job.until,
            job.policy,
            job.identities,
            default_ref=default_branch(git),
        )
        report = run_audit(options)
        try:
            return repo_summary(path, report)
        finally:
            report.close()
    except TwokeyError as exc:
        return RepoSummary(path, reason=_one_line(exc.message))
    except Exception as exc:  # fail small: one repository, not the whole run
        return RepoSummary(path, reason=f"internal error: {type(exc).__name__}: {exc}")


def _one_line(message: str) -> str:
    """A multi-line reason (a policy's problems) as one line of the summary."""
    return "; ".join(line.strip() for line in message.splitlines() if line.strip())


def _collect(futures: dict[Future[RepoSummary], str], report: OrgReport, done: Done) -> None:
    from twokey.audit import RepoSummary  # noqa: PLC0415

    for future in as_completed(futures):
        try:
            summary = future.result()
        except BrokenProcessPool:
            summary = RepoSummary(futures[future], reason="its worker process died")
        report.add(summary)
        done(summary)


def audit_many(
    paths: list[Path], job: OrgJob, jobs: int | None = None, done: Done | None = None
) -> OrgReport:
    """Audit ``paths``, at most ``jobs`` at a time (default: the CPU count), one process each.

    ``done`` is called in the parent as each repository finishes (progress).
    """
    from twokey.audit import OrgReport  # noqa: PLC0415

    report = OrgReport(since=job.since, until=job.until)
    workers = max(1, min(jobs or os.cpu_count() or 1, len(paths)))
    context = multiprocessing.get_context("spawn")  # no fork of a parent with threads
    with ProcessPoolExecutor(workers, mp_context=context, max_tasks_per_child=1) as pool:
        futures = {pool.submit(audit_one, str(p), job): str(p) for p in paths}
        _collect(futures, report, done or (lambda _: None))
    return report


def progress(total: int) -> tuple[Done | None, Callable[[], None]]:
    """A progress bar on stderr when it is a terminal; nothing otherwise."""
    bar = terminal_bar("repositories {task.completed}/{task.total} {task.description}", total)
    if bar is None:
        return None, lambda: None
    update, stop = bar

    def done(summary: RepoSummary) -> None:
        from rich.markup import escape  # noqa: PLC0415 - only on a terminal

        state = "failed" if summary.failed else f"{summary.violations} violations"
        name = escape(printable(Path(summary.path).name))  # a folder name is not markup
        update(advance=1, description=f"{name}: {state}")

    return done, stop


def org_command(args: argparse.Namespace, identities: dict[str, str] | None) -> int:
    """``twokey audit --repos``: exit 3 when any repository failed (the summary is
    incomplete), else 1 with ``--fail-on-violation`` when any has a violation, else 0."""
    from twokey.audit import find_repositories, text_errors, write_org_report  # noqa: PLC0415

    if args.ledger or args.every_change or args.action != "report" or args.repo != ".":
        raise UsageError(
            "--repos audits each repository on its own: --repo, --ledger, --all and "
            "`audit identities` are for one repository",
            hint="twokey audit --repos DIR [--ref REF] [--policy FILE] [--format ...]",
        )
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs}: must be at least 1")
    paths = find_repositories(args.repos)
    job = OrgJob(args.ref, args.since, args.until, args.policy, identities)
    done, stop = progress(len(paths))
    try:
        report = audit_many(paths, job, args.jobs, done)
    finally:
        stop()
    if args.output:
        try:
            with args.output.open("w", encoding="utf-8", errors=text_errors()) as out:
                write_org_report(report, args.format, out)
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror}") from exc
    else:
        write_org_report(report, args.format, sys.stdout)
    totals = report.totals()
    if args.output:
        print(
            f"wrote {args.output}: {totals['repositories']} repositories, {totals['failed']} "
            f"failed, {totals['violations']} violations",
            file=sys.stderr,
        )
    if totals["failed"]:
        return ExitCode.INTERNAL
    if args.fail_on_violation and totals["violations"]:
        return ExitCode.DENY
    return ExitCode.ALLOW
