"""``twokey hook install|uninstall|run``: the pre-receive hook on a git server."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from twokey.cli._output import Subparsers, add_command, help_handler
from twokey.errors import ExitCode

_EPILOG = """\
examples:
  twokey hook install /srv/git/shop.git --repository git.example.com/org/shop
  twokey hook install /srv/git/shop.git --bootstrap-policy policy.yml   # the first policy
  twokey hook install /srv/git/shop.git --ledger postgresql://ledger@db/twokey \
      --ledger-key /etc/twokey/ledger.key     # a signed checkpoint after every push
  twokey hook uninstall /srv/git/shop.git
  twokey hook serve --socket /run/twokey/hook.sock &       # optional warm server
  twokey hook install /srv/git/shop.git --server-socket /run/twokey/hook.sock

pushers see one line per finding: code, message, and what would satisfy it.
break-glass: git push -o twokey.break-glass="reason" (people named in the policy only).
docs: docs/hook.md"""


def register(subparsers: Subparsers) -> None:
    """Register ``twokey hook``."""
    parser = add_command(
        subparsers,
        "hook",
        "install or remove the pre-receive hook of a git server repository",
        _EPILOG,
        description="The pre-receive hook refuses a push that would put unapproved content on a "
        "protected ref, with one clear reason per problem.",
    )
    commands = parser.add_subparsers(title="hook commands", metavar="COMMAND")
    install = commands.add_parser("install", help="install the pre-receive hook")
    install.add_argument("path", type=Path, help="the (bare) repository")
    install.add_argument(
        "--bootstrap-policy",
        type=Path,
        metavar="FILE",
        help="trusted policy until the default branch carries .twokey/policy.yml",
    )
    install.add_argument("--ledger", metavar="URL", help="ledger for every decision (git config)")
    install.add_argument(
        "--ledger-key",
        type=Path,
        metavar="FILE",
        help="private key (twokey ledger keygen) that signs a checkpoint after each recorded "
        "push (git config twokey.ledgerKey)",
    )
    install.add_argument(
        "--repository", metavar="ID", help="repository id approvals name (git config)"
    )
    install.add_argument(
        "--server-socket",
        type=Path,
        metavar="PATH",
        help="ask a warm 'twokey hook serve' on this socket first (fast path)",
    )
    install.add_argument("--force", action="store_true", help="replace another pre-receive hook")
    install.set_defaults(handler=_install)
    uninstall = commands.add_parser("uninstall", help="remove twokey's pre-receive hook")
    uninstall.add_argument("path", type=Path, help="the (bare) repository")
    uninstall.set_defaults(handler=_uninstall)
    serve = commands.add_parser(
        "serve", help="keep twokey loaded and judge pushes for hooks installed --server-socket"
    )
    serve.add_argument("--socket", type=Path, required=True, metavar="PATH", help="Unix socket")
    serve.set_defaults(handler=_serve)
    run = commands.add_parser("run", help="run as git's pre-receive hook (reads its stdin)")
    run.set_defaults(handler=_run)
    parser.set_defaults(handler=help_handler(parser))


def _install(args: argparse.Namespace) -> int:
    from twokey.git import install_hook  # noqa: PLC0415

    hook = install_hook(
        args.path,
        bootstrap_policy=args.bootstrap_policy,
        ledger=args.ledger,
        repository=args.repository,
        server_socket=args.server_socket,
        force=args.force,
        ledger_key=args.ledger_key,
    )
    print(f"installed {hook}")
    if args.bootstrap_policy is not None:
        print(
            f"bootstrap policy: {args.bootstrap_policy} (trusted until the default branch has one)"
        )
    return ExitCode.ALLOW


def _uninstall(args: argparse.Namespace) -> int:
    from twokey.git import uninstall_hook  # noqa: PLC0415

    removed = uninstall_hook(args.path)
    print("removed the pre-receive hook" if removed else "no twokey hook was installed")
    return ExitCode.ALLOW


def _serve(args: argparse.Namespace) -> int:
    from twokey.git import serve  # noqa: PLC0415

    print(f"twokey hook server on {args.socket}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is the way to stop it
        serve(args.socket)
    return ExitCode.ALLOW


def _run(args: argparse.Namespace) -> int:
    del args
    from twokey.git import hook_main  # noqa: PLC0415

    return hook_main()
