"""``twokey demo``: the walkthrough on a sample repository, showing what is refused and why."""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from twokey.cli._output import Subparsers, add_command, exit_codes, print_json
from twokey.errors import ExitCode, UsageError

_EPILOG = f"""\
Runs ../shared/WALKTHROUGH.md for real: SSH keys for six people and CI, a server repository
with the pre-receive hook and a SQLite ledger, pushes that are refused and accepted, signed
approvals, CI results and build provenance, deploy checks (freeze window, break-glass), an
auditor's export and HTML report, and a tampered database caught by verification.

examples:
  twokey demo                       # in a temporary directory, removed afterwards
  twokey demo --workdir demo --keep # keep the repositories, keys, ledger and audit.html
  twokey demo --format json

{exit_codes("every step behaved as the story says", "some step did not")}"""


def register(subparsers: Subparsers) -> None:
    """Register ``twokey demo``."""
    parser = add_command(
        subparsers,
        "demo",
        "run the walkthrough on a sample repository (what is refused and why)",
        _EPILOG,
        description="The end-to-end story, on real git repositories.",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        help="where to build the sample (absent or empty; kept afterwards; default: a "
        "temporary directory)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directory (and print where)"
    )
    parser.add_argument(
        "--format",
        choices=["text", "json"],
        default="text",
        help="text: each step as it runs; json: every step at the end (default: text)",
    )
    parser.set_defaults(handler=_demo)


def _print_step(step: object) -> None:
    from twokey.demo import Step  # noqa: PLC0415

    assert isinstance(step, Step)
    mark = "ok " if step.as_expected else "!! "
    verdict = step.outcome.upper()
    print(f"{mark}[{step.number}] {step.actor}: {step.action} -> {verdict}")
    for line in step.detail.splitlines():
        print(f"      {line}")


def _demo(args: argparse.Namespace) -> int:
    from twokey.demo import run_walkthrough  # noqa: PLC0415

    if args.workdir is not None and args.workdir.exists() and any(args.workdir.iterdir()):
        raise UsageError(f"{args.workdir} exists and is not empty")
    root = args.workdir or Path(tempfile.mkdtemp(prefix="twokey-demo-"))
    text = args.format == "text"
    if text:
        print(f"twokey walkthrough in {root}\n")
    try:
        steps = run_walkthrough(root, _print_step if text else None)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(root, ignore_errors=True)
    good = all(s.as_expected for s in steps)
    if args.format == "json":
        print_json(
            {
                "steps": [s.to_dict() for s in steps],
                "as_expected": good,
                "workdir": str(root) if args.keep or args.workdir else None,
            }
        )
    else:
        print(
            f"\n{sum(s.as_expected for s in steps)} of {len(steps)} steps behaved as the "
            "story says." + (f" Files kept in {root}." if args.keep or args.workdir else "")
        )
    return ExitCode.ALLOW if good else ExitCode.DENY
