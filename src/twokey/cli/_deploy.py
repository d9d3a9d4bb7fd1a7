"""``twokey deploy check|request|approve|reject|cancel|status|verify`` (invariant 5).

``check`` is a thin handler over the deploy door (``twokey.doors``): it reads the options,
picks the clock (the door's own whenever a ledger records the decision) and prints the answer.
``request`` .. ``status`` talk to the gateway's API (``cli/_client.py``); ``verify`` checks a
gateway's deploy authorization offline (docs/gateway.md "Deploy authorizations").
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from twokey.cli import add_placeholder
from twokey.cli._digest import artifact_digest
from twokey.cli._output import Subparsers, add_command, help_handler
from twokey.errors import UsageError

_EPILOG = """\
examples:
  twokey deploy check --environment production --artifact dist/app.tar.gz \\
      --commit origin/main --deployer dave --ledger sqlite:///srv/twokey/ledger.db
  twokey deploy check ... --break-glass "prod down, rollback" --format json

The trusted policy is the one on the environment's first `from` ref as the remote has it
(`git ls-remote REMOTE`, fetched if needed), never the checkout, its local branches or HEAD.
The commit must be on one of the remote's `from` refs. The release is every commit since the
environment's last allowed deploy recorded in the ledger (from the root without one); --since
may narrow it only to another deploy the ledger records. Approvals must name this repository;
one from the deployer or the requester never counts.

exit codes: 0 allow, 1 deny, 2 usage or policy error, 3 internal error (treat 3 as deny)
docs: docs/engine.md (deploys)"""


# The gateway's deploy subcommands (``cli/_deploy_gateway.py``) and their one-line help, in the
# order ``twokey deploy --help`` lists them; a test keeps these equal to what it registers.
GATEWAY_COMMANDS = (
    ("request", "ask the gateway to deploy an artifact (as the caller)"),
    ("approve", "approve a pending deploy request (an eligible operator)"),
    ("reject", "reject a pending deploy request, with a reason"),
    ("cancel", "withdraw your deploy request"),
    ("status", "show a deploy request, or list the newest"),
    ("verify", "verify a gateway's deploy authorization offline"),
)


def register(subparsers: Subparsers, subcommand: str = "") -> None:
    """Register ``twokey deploy``; for ``subcommand`` ``check``, the gateway's subcommands are
    placeholders holding their one-line help (``deploy check`` builds no parser it does not
    use, and imports neither the gateway client nor its options: start-up time)."""
    parser = add_command(
        subparsers,
        "deploy",
        "check, request, approve and verify deploys",
        _EPILOG,
        description="Deploy requests, judged by the engine.",
    )
    commands = parser.add_subparsers(title="deploy commands", metavar="COMMAND")
    check = add_command(
        commands,
        "check",
        "may this artifact be deployed to this environment now?",
        _EPILOG,
        description="Judge a deploy: provenance from a trusted builder, deploy approvals from "
        "operators who neither wrote nor approved the release, a deployer who may deploy, "
        "freeze windows and break-glass. Recorded in the ledger before it answers.",
    )
    _options(check)
    check.set_defaults(handler=_check)
    if subcommand == "check":
        for name, text in GATEWAY_COMMANDS:
            add_placeholder(commands, name, text)
    else:
        from twokey.cli._deploy_gateway import register_gateway  # noqa: PLC0415

        register_gateway(commands)
    parser.set_defaults(handler=help_handler(parser))


def _options(check: argparse.ArgumentParser) -> None:
    check.add_argument("--repo", default=".", help="the clone to read (default: .)")
    check.add_argument("--environment", required=True, help="the policy's environment name")
    check.add_argument(
        "--artifact", required=True, help="the artifact file, or its digest sha256:<hex>"
    )
    check.add_argument(
        "--commit", default="HEAD", help="the commit the artifact was built from (default: HEAD)"
    )
    check.add_argument(
        "--deployer",
        required=True,
        help="who carries out the deploy: a policy id (dave), an email, or kind:value "
        "(key:ssh-ed25519 AAAA...)",
    )
    check.add_argument(
        "--requester", help="who asked for it, as --deployer (default: the deployer)"
    )
    check.add_argument(
        "--since",
        metavar="REV",
        help="narrow the release to the commits since REV, which must be a deploy to this "
        "environment that the ledger records (default: the last recorded deploy)",
    )
    check.add_argument(
        "--break-glass",
        metavar="REASON",
        help="emergency override by the deployer (allowed people only; an open exception "
        "until someone else reviews it)",
    )
    check.add_argument(
        "--ledger",
        metavar="URL",
        default="",
        help="read the environment's last deploy from, and record this decision in, this "
        "ledger before answering (default: $TWOKEY_LEDGER, then git config twokey.ledger); "
        "a ledger that cannot be written is a deny",
    )
    check.add_argument(
        "--remote",
        default="origin",
        help="the remote whose branches are trusted (default: origin; '.' only on the server's "
        "bare repository)",
    )
    check.add_argument(
        "--repository",
        metavar="ID",
        help="the repository id evidence must name (default: git config twokey.repository, "
        "else the origin URL; pin it where earlier job steps could edit .git/config)",
    )
    check.add_argument(
        "--policy", type=Path, metavar="FILE", help="use this policy file instead (explicit)"
    )
    check.add_argument(
        "--now",
        metavar="TIME",
        help="simulate the decision at TIME (ISO 8601 with zone); refused with a ledger, where "
        "the door uses its own clock",
    )
    check.add_argument(
        "--format", choices=["text", "json"], default="text", help="output (default: text)"
    )


def _check(args: argparse.Namespace) -> int:
    from twokey.git import start_first_reads  # noqa: PLC0415

    artifact = artifact_digest(args.artifact)  # the request's own errors first
    simulate_at = _when(args.now)  # the door refuses it whenever a ledger records
    # The remote and git config answer while the door's modules are imported (ADR 0037).
    git_dir = start_first_reads(Path(args.repo), args.remote)
    from twokey.doors import DeployCheck, answer, exit_code, run_deploy_check  # noqa: PLC0415

    request = DeployCheck(
        repo=Path(args.repo),
        environment=args.environment,
        artifact=artifact,
        commit=args.commit,
        deployer=args.deployer,
        simulate_at=simulate_at,
        requester=args.requester or "",
        since=args.since or "",
        break_glass=args.break_glass or "",
        ledger=args.ledger or None,  # None: $TWOKEY_LEDGER, then git config twokey.ledger
        remote=args.remote,
        policy_file=args.policy,
        repository=args.repository or "",
    )
    decision, origin = run_deploy_check(request, git_dir=git_dir)
    print(answer([decision], args.format, origin))
    return int(exit_code([decision]))


def _when(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"bad --now {text!r}") from exc
    if when.tzinfo is None:
        raise UsageError("--now needs a time zone, e.g. 2026-11-27T22:00:00+01:00")
    return when
