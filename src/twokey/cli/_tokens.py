"""``twokey tokens``: list and revoke your gateway tokens; create a service's token."""

from __future__ import annotations

import argparse
from typing import Any

from twokey.cli._client import add_gateway_option, client_from
from twokey.cli._output import (
    Subparsers,
    add_command,
    add_format,
    exit_codes,
    help_handler,
    print_json,
)
from twokey.errors import ExitCode

_EPILOG = f"""\
examples:
  twokey tokens list
  twokey tokens revoke 3f2a9c1b04de
  twokey tokens create-service ci --name "deploy job" --days 30

You see and revoke only your own tokens and sessions, and the service tokens you created
(no admin exemption). A service token is shown once; it never counts as a person.
{exit_codes("done", bad="refused: the reason is printed")}"""


def register(subparsers: Subparsers) -> None:
    """Register ``twokey tokens``."""
    parser = add_command(
        subparsers,
        "tokens",
        "list or revoke your gateway tokens; create a service's token",
        _EPILOG,
        description="Your tokens at a twokey gateway (stored there only as hashes).",
    )
    parser.set_defaults(handler=help_handler(parser))
    commands = parser.add_subparsers(title="tokens commands", metavar="COMMAND")
    listing = add_command(
        commands,
        "list",
        "your tokens, sessions and service tokens",
        _EPILOG,
        description="List your tokens and sessions and the service tokens you created.",
    )
    revoke = add_command(
        commands,
        "revoke",
        "revoke a token by its id",
        _EPILOG,
        description="Revoke one of your tokens (or a service token you created).",
    )
    revoke.add_argument("id", help="the token's id (12 hex digits, from twokey tokens list)")
    create = add_command(
        commands,
        "create-service",
        "a token for a service",
        _EPILOG,
        description="Create a token for a service the policy lists; it is shown once.",
    )
    create.add_argument("service", help="a service id from the policy's services:")
    create.add_argument("--name", default="", help="a label (default: the service id)")
    create.add_argument("--days", type=int, default=90, help="lifetime in days (default 90)")
    for sub, handler in ((listing, _list), (revoke, _revoke), (create, _create)):
        add_gateway_option(sub)
        add_format(sub)
        sub.set_defaults(handler=handler)


def _show(args: argparse.Namespace, data: Any, text: str) -> int:
    if args.format == "json":
        print_json(data)
    else:
        print(text)
    return ExitCode.ALLOW


def _list(args: argparse.Namespace) -> int:
    tokens = client_from(args).get("/v1/tokens")["tokens"]
    lines = [
        f"{t['id']}  {t['kind']:<7} {t['subject']:<12} {t['name']:<16} expires {t['expires']}"
        + (f"  REVOKED {t['revoked']}" if t["revoked"] else "")
        for t in tokens
    ]
    return _show(args, tokens, "\n".join(lines) or "no tokens")


def _revoke(args: argparse.Namespace) -> int:
    answer = client_from(args).post(f"/v1/tokens/{args.id}/revoke")
    return _show(args, answer, f"revoked {answer['id']} at {answer['revoked']}")


def _create(args: argparse.Namespace) -> int:
    body = {"service": args.service, "name": args.name, "days": args.days}
    answer = client_from(args).post("/v1/tokens", body)
    text = (
        f"{answer['token']}\n(service {answer['service']}, id {answer['id']}, until "
        f"{answer['expires']}; shown once: store it as the service's TWOKEY_TOKEN)"
    )
    return _show(args, answer, text)
