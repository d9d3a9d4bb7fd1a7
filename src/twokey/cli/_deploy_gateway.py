"""``twokey deploy request|approve|reject|cancel|status`` over the gateway's API, and
``twokey deploy verify``, which checks a deploy authorization offline (no network).

Exit codes are every door's: 0 allow (authorized; the action was taken; the authorization
holds), 1 deny (not authorized: pending, denied, rejected or cancelled; the gateway refused the
action; the authorization is refused), 2 usage or bad input, 3 internal error (the gateway is
unreachable or answered 5xx: treat it as a deny).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from twokey._text import printable
from twokey.cli._client import GatewayClient, add_gateway_option, client_from
from twokey.cli._digest import artifact_digest
from twokey.cli._output import Subparsers, add_command, add_format, exit_codes, print_json
from twokey.errors import ExitCode, UsageError

_REQUEST = f"""\
examples:
  export TWOKEY_GATEWAY=https://twokey.example.com TWOKEY_TOKEN=$CI_TWOKEY_TOKEN
  twokey deploy request --environment production --commit "$GIT_COMMIT" \\
      --artifact dist/app.tar.gz --wait 1800 --authorization-out deploy.auth
  twokey deploy request ... --break-glass "prod down, INC-42: rollback"

The requester is whoever the token belongs to. The gateway judges the request at once:
pending (waiting for an operator's approval), denied, or authorized. With --wait the command
polls until the request is no longer pending. --authorization-out writes the signed
authorization once authorized, for `twokey deploy verify`.

{exit_codes("authorized", "not authorized (pending, denied, rejected, cancelled)")}
docs: docs/gateway.md (Deploys)"""

_ACT = f"""\
examples:
  twokey deploy approve d3f2a9c01b7e4
  twokey deploy reject d3f2a9c01b7e4 --reason "not during the sale"
  twokey deploy cancel d3f2a9c01b7e4

Only a person may approve or reject: an approver of the environment who neither wrote nor
approved a commit of the release, nor requested the deploy. Only the requester may cancel.

{exit_codes("done (the new state is printed)", "refused (the reason is printed)")}
docs: docs/gateway.md (Deploys)"""

_STATUS = f"""\
examples:
  twokey deploy status d3f2a9c01b7e4
  twokey deploy status --state pending --format json

With an id: the request, its findings and its chain of custody. Without: the newest requests.

{exit_codes("authorized (or a listing)", "that request is not authorized")}
docs: docs/gateway.md (Deploys)"""

_VERIFY = f"""\
examples:
  curl -s https://twokey.example.com/v1/key > gateway.pub   # once, out of band
  twokey deploy verify --authorization deploy.auth --key gateway.pub \\
      --environment production --commit "$GIT_COMMIT" --artifact dist/app.tar.gz \\
      --repository shop --seen /var/lib/deploy/seen-authorizations

Offline: no network. Refuses a bad signature, another key, an authorization for another
repository, environment, commit or artifact, an expired or not yet valid one (60 s of clock
difference tolerated) and, with --seen, one whose nonce the journal already holds (a replay;
the nonce is recorded when accepted).

{exit_codes("the authorization holds for exactly this deploy", "refused (one reason printed)")}
docs: docs/gateway.md (Deploy authorizations)"""


def register_gateway(commands: Subparsers) -> None:
    """Register the gateway's deploy subcommands under ``twokey deploy``."""
    request = add_command(
        commands,
        "request",
        "ask the gateway to deploy an artifact (as the caller)",
        _REQUEST,
        description="Ask the gateway for a deploy of an artifact built from a commit.",
    )
    request.add_argument("--environment", required=True, help="the policy's environment name")
    request.add_argument("--commit", required=True, help="the full commit id the artifact is from")
    request.add_argument("--artifact", required=True, help="the artifact file, or sha256:<hex>")
    request.add_argument("--break-glass", metavar="REASON", help="emergency override, with why")
    request.add_argument(
        "--wait", type=int, default=0, metavar="SECONDS", help="poll while pending (default: 0)"
    )
    request.add_argument(
        "--authorization-out", type=Path, metavar="FILE", help="write the authorization here"
    )
    _common(request)
    request.set_defaults(handler=_request)
    for name, text in (
        ("approve", "approve a pending deploy request (an eligible operator)"),
        ("reject", "reject a pending deploy request, with a reason"),
        ("cancel", "withdraw your deploy request"),
    ):
        act = add_command(commands, name, text, _ACT, description=text[0].upper() + text[1:] + ".")
        act.add_argument("id", help="the deploy request's id")
        if name == "reject":
            act.add_argument("--reason", required=True, help="why (recorded in the ledger)")
        _common(act)
        act.set_defaults(handler=_act, action=name)
    status = add_command(
        commands,
        "status",
        "show a deploy request, or list the newest",
        _STATUS,
        description="Show one deploy request (findings, chain of custody) or list them.",
    )
    status.add_argument("id", nargs="?", help="the deploy request's id (default: list)")
    status.add_argument("--state", help="list only requests in this state")
    _common(status)
    status.set_defaults(handler=_status)
    _register_verify(commands)


def _register_verify(commands: Subparsers) -> None:
    verify = add_command(
        commands,
        "verify",
        "verify a gateway's deploy authorization offline",
        _VERIFY,
        description="Check, offline, that a deploy authorization signed by the gateway allows "
        "exactly this deploy, now, once.",
    )
    verify.add_argument(
        "--authorization",
        type=Path,
        required=True,
        metavar="FILE",
        help="the authorization (GET /v1/deploys/ID/authorization, or request's output)",
    )
    verify.add_argument(
        "--key", type=Path, required=True, metavar="FILE", help="the gateway's verifier key"
    )
    verify.add_argument("--environment", required=True, help="the environment being deployed to")
    verify.add_argument("--commit", required=True, help="the full commit id being deployed")
    verify.add_argument("--artifact", required=True, help="the artifact file, or sha256:<hex>")
    verify.add_argument("--repository", default="", help="the repository id (checked when given)")
    verify.add_argument(
        "--seen", type=Path, metavar="JOURNAL", help="refuse and record used nonces (replays)"
    )
    add_format(verify)
    verify.set_defaults(handler=_verify)


def _common(parser: argparse.ArgumentParser) -> None:
    add_gateway_option(parser)
    add_format(parser)


# -- handlers ---------------------------------------------------------------------------------


def _request(args: argparse.Namespace) -> int:
    client = client_from(args)
    body: dict[str, Any] = {
        "environment": args.environment,
        "commit": args.commit,
        "artifact": artifact_digest(args.artifact),
    }
    if args.break_glass is not None:
        body["break_glass"] = args.break_glass
    view = client.post("/v1/deploys", body)
    deadline = time.monotonic() + max(args.wait, 0)
    while view.get("state") == "pending" and time.monotonic() < deadline:
        time.sleep(2)
        view = client.get(f"/v1/deploys/{view['id']}")
    if view.get("state") == "authorized" and args.authorization_out is not None:
        note = _authorization(client, str(view["id"]))
        args.authorization_out.write_text(note)
    _show(view, args.format)
    return _exit(view)


def _act(args: argparse.Namespace) -> int:
    client = client_from(args)
    body = {"reason": args.reason} if args.action == "reject" else None
    status, data = client.request(
        "POST", f"/v1/deploys/{_id(args.id)}/{args.action}", body, ok=(403, 409)
    )
    if status in (403, 409):
        message = data.get("error", "refused") if isinstance(data, dict) else "refused"
        if args.format == "json":
            print_json({"refused": True, "status": status, "error": message})
        else:
            print(printable(f"refused: {message}"))
        return int(ExitCode.DENY)
    _show(data, args.format)
    return int(ExitCode.ALLOW)


def _status(args: argparse.Namespace) -> int:
    client = client_from(args)
    if args.id:
        view = client.get(f"/v1/deploys/{_id(args.id)}")
        _show(view, args.format)
        return _exit(view)
    path = "/v1/deploys" + (f"?state={args.state}" if args.state else "")
    views = client.get(path)["deploys"]
    if args.format == "json":
        print_json(views)
    else:
        for v in views:
            print(
                printable(
                    f"{v['id']}  {v['state']:<10}  {v['environment']}  {v['commit'][:12]}  "
                    f"{v['requester']}  {v['created']}"
                )
            )
        print(f"{len(views)} deploy request(s)")
    return int(ExitCode.ALLOW)


def _verify(args: argparse.Namespace) -> int:
    from twokey.gateway import AuthorizationRefused, Expected, verify_authorization  # noqa: PLC0415
    from twokey.ledger import NoteError, NoteVerifier  # noqa: PLC0415

    note = _read(args.authorization, "--authorization")
    try:
        key = NoteVerifier.parse(_read(args.key, "--key"))
    except NoteError as exc:
        raise UsageError(f"--key {args.key}: {exc}") from exc
    expected = Expected(
        args.environment, args.commit, artifact_digest(args.artifact), args.repository
    )
    try:
        auth = verify_authorization(note, key, expected, datetime.now(UTC), args.seen)
    except AuthorizationRefused as exc:
        if args.format == "json":
            print_json({"valid": False, "reason": exc.reason})
        else:
            print(printable(f"✗ refused: {exc.reason}"))
        return int(ExitCode.DENY)
    if args.format == "json":
        print_json({"valid": True, "authorization": auth.to_dict()})
    else:
        print(
            printable(
                f"✓ authorized: {auth.artifact} to {auth.environment} ({auth.repository} "
                f"{auth.commit[:12]}), request {auth.request}, until {auth.to_dict()['expires']}"
            )
        )
    return int(ExitCode.ALLOW)


# -- helpers ----------------------------------------------------------------------------------


def _read(path: Path, option: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{option} {path}: {exc.strerror or exc}") from exc
    if len(data) > 65536:
        raise UsageError(f"{option} {path}: too large")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{option} {path}: not UTF-8 text") from exc


def _id(text: str) -> str:
    if not text.isalnum() or len(text) > 40:
        raise UsageError(f"not a deploy request id: {text[:40]!r}")
    return text


def _authorization(client: GatewayClient, deploy_id: str) -> str:
    data = client.get(f"/v1/deploys/{deploy_id}/authorization?format=json")
    note = data.get("authorization") if isinstance(data, dict) else None
    if not isinstance(note, str):
        raise UsageError("the gateway sent no authorization")
    return note


def _exit(view: dict[str, Any]) -> int:
    ok = view.get("state") in ("authorized", "running", "deployed")
    return int(ExitCode.ALLOW if ok else ExitCode.DENY)


def _show(view: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        print_json(view)
        return
    lines = [
        f"deploy {view['id']}: {str(view['state']).upper()}",
        f"  {view['artifact']} to {view['environment']} ({view['repository']} "
        f"{view['commit'][:12]}), requested by {view['requester']} at {view['created']}",
    ]
    if view.get("break_glass"):
        lines.append(f"  BREAK-GLASS: {view['break_glass']}")
    for approval in view.get("approvals", []):
        lines.append(f"  approved by {approval['person']} at {approval['time']}")
    if view.get("reason"):
        lines.append(f"  reason: {view['reason']}")
    for finding in view.get("decision", {}).get("findings", []):
        mark = {"deny": "✗", "warn": "!"}.get(finding.get("severity", ""), "·")
        lines.append(f"  {mark} {finding['code']}: {finding['message']}")
        rule = finding.get("rule") or {}
        where = f" ({rule.get('file')}:{rule.get('line')})" if rule.get("file") else ""
        if finding.get("satisfy"):
            lines.append(f"      to satisfy: {finding['satisfy']}{where}")
    you = view.get("you", {})
    if view.get("state") == "pending" and you:
        lines.append(
            "  you may approve it"
            if you.get("may_approve")
            else f"  you may not approve it: {you.get('why', '')}"
        )
    print("\n".join(printable(line) for line in lines))  # each line's own text escaped
    sys.stdout.flush()
