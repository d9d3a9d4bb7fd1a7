"""``twokey audit``: every change that reached a protected ref, judged by the gate's engine."""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path

from twokey.cli._output import Subparsers, add_command, exit_codes, print_json, terminal_bar
from twokey.cli._revs import default_branch, protected_ref, repo_at
from twokey.errors import ExitCode, UsageError

_DENY = "some change violates the policy (with --fail-on-violation only)"
_EPILOG = f"""\
examples:
  twokey audit --since 2026-01-01 --until 2026-07-01 --format html --output audit.html
  twokey audit --policy .twokey/policy.yml --format json > audit.json
  twokey audit --ledger sqlite:///var/lib/twokey/ledger.db --format html --output audit.html
  twokey audit identities            # probable aliases to confirm into the policy
  twokey audit --identities confirmed.json   # {{"alias@old.example": "alice@example.com"}}
  twokey audit --repos /srv/git --jobs 4 --format html --output org.html

With --repos, each repository is audited in its own process with its own policy and default
branch (or --policy and --ref for all), and one summary lists them; a repository that cannot
be audited is listed as failed with its reason and the others go on; exit 3 when any failed.

Without --policy the audit applies a default (one approval by someone other than the author,
people inferred from the history's emails, trailer approvals accepted) and says so.
The default --ref is the repository's default branch: the one origin/HEAD names; on a
server, the one HEAD names; else main; else the branch checked out (docs/audit.md).
{exit_codes("report written (even with violations)", _DENY, "e.g. a --ref that does not exist")}"""


def register(subparsers: Subparsers) -> None:
    """Register ``twokey audit``."""
    parser = add_command(
        subparsers,
        "audit",
        "report every change that landed: who wrote, approved, merged",
        _EPILOG,
        description="Walk the first-parent history of a protected ref and judge every change "
        "with the same engine as the gate.",
    )
    parser.add_argument(
        "action",
        nargs="?",
        choices=["report", "identities"],
        default="report",
        help="report (default): every change judged; identities: probable aliases of one "
        "person in the history",
    )
    parser.add_argument("--repo", default=".", help="repository (default: current directory)")
    parser.add_argument(
        "--repos",
        type=Path,
        metavar="FILE|DIR",
        help="audit many repositories, one summary across them: a FILE lists their paths (one "
        "a line, # comments), a DIR holds them (one level, bare or not); see below",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        help="with --repos: repositories audited at once, each in its own process "
        "(default: the CPU count)",
    )
    parser.add_argument(
        "--ref",
        default=None,
        help="audited ref; NAME means refs/heads/NAME, HEAD the branch HEAD names "
        "(default: the repository's default branch, see below)",
    )
    parser.add_argument("--since", help="only changes after this date (git's date formats)")
    parser.add_argument("--until", help="only changes before this date")
    parser.add_argument(
        "--policy", type=Path, help="policy file (default: the built-in default; see above)"
    )
    parser.add_argument(
        "--identities",
        type=Path,
        help="confirmed aliases: a JSON map email -> canonical email, or the groups "
        "`twokey audit identities --format json` wrote (first email canonical)",
    )
    parser.add_argument(
        "--ledger",
        metavar="URL",
        help="the ledger the doors write to: the gate's decisions (pushers, pushes of several "
        "commits as one change), deploys (who deployed), break-glass exceptions and reviews",
    )
    parser.add_argument(
        "--ledger-key",
        metavar="FILE",
        help="the ledger's public key (.pub from `twokey ledger keygen`), obtained separately: "
        "the ledger must reproduce checkpoints it signed (default: $TWOKEY_LEDGER_KEY)",
    )
    parser.add_argument(
        "--format",
        choices=["text", "json", "csv", "html"],
        default="text",
        help="report format (default: text; docs/audit-json.md describes json)",
    )
    parser.add_argument("--output", type=Path, help="write here instead of standard output")
    parser.add_argument(
        "--all",
        action="store_true",
        dest="every_change",
        help="text: list every change (default: exceptions and violations, after a summary; "
        "json, csv and html always hold every change)",
    )
    parser.add_argument(
        "--fail-on-violation",
        action="store_true",
        help="exit 1 when any change violates the policy",
    )
    parser.set_defaults(handler=_audit)


def _load_identities(path: Path | None) -> dict[str, str] | None:
    from twokey.audit import identities_map  # noqa: PLC0415

    if path is None:
        return None
    try:
        return identities_map(json.loads(path.read_text()))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read identities {path}: {exc}") from exc


def _progress() -> tuple[Callable[[int], None] | None, Callable[[], None]]:
    """A progress bar on stderr when it is a terminal (long runs); nothing otherwise."""
    bar = terminal_bar("auditing: {task.completed:,} changes judged")
    if bar is None:
        return None, lambda: None
    update, stop = bar
    return (lambda n: update(completed=n)), stop


def _identities(args: argparse.Namespace) -> int:
    from twokey.audit import history_idents, probable_aliases  # noqa: PLC0415

    git = repo_at(args.repo)
    ref = protected_ref(git, args.ref)
    if not git.ok("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"):
        raise UsageError(f"{ref} does not exist in {args.repo}", hint="pass --ref REF")
    candidates = probable_aliases(history_idents(git, ref))
    if args.format == "json":
        print_json([c.to_dict() for c in candidates])
        return ExitCode.ALLOW
    for c in candidates:
        print(f"{', '.join(c.emails)}  ({c.reason}; names: {', '.join(c.names)})")
    print(
        f"{len(candidates)} probable alias group(s); confirm them into the policy's "
        "people (emails:) or pass --identities FILE"
    )
    return ExitCode.ALLOW


def _audit(args: argparse.Namespace) -> int:
    from twokey.audit import (  # noqa: PLC0415
        AuditOptions,
        ReportFormat,
        run_audit,
        text_errors,
        write_report,
    )

    if isinstance(sys.stdout, io.TextIOWrapper):  # names and messages in legacy encodings
        sys.stdout.reconfigure(errors=text_errors())
    if args.repos is not None:
        from twokey.cli._audit_org import org_command  # noqa: PLC0415

        return org_command(args, _load_identities(args.identities))
    if args.action == "identities":
        return _identities(args)

    git = repo_at(args.repo)
    options = AuditOptions(
        Path(args.repo),
        protected_ref(git, args.ref),
        args.since,
        args.until,
        args.policy,
        _load_identities(args.identities),
        args.ledger,
        args.ledger_key,
        default_ref=default_branch(git),
    )
    update, stop = _progress()
    try:
        report = run_audit(options, progress=update)
    finally:
        stop()
    try:
        if args.output:
            try:
                with args.output.open("w", encoding="utf-8", errors=text_errors()) as out:
                    write_report(
                        report, ReportFormat(args.format), out, every_change=args.every_change
                    )
            except OSError as exc:
                raise UsageError(f"cannot write {args.output}: {exc.strerror}") from exc
            s = report.summary()
            print(
                f"wrote {args.output}: {s['changes']} changes, {s['violations']} violations",
                file=sys.stderr,
            )
        else:
            write_report(
                report, ReportFormat(args.format), sys.stdout, every_change=args.every_change
            )
        violations = report.summary()["violations"]
    finally:
        report.close()
    if args.fail_on_violation and violations:
        return ExitCode.DENY
    return ExitCode.ALLOW
