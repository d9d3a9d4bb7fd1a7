"""``twokey hook install|uninstall|run``: the pre-receive hook on a git server."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from twokey.cli._output import Subparsers, add_command, exit_codes, help_handler
from twokey.errors import ExitCode

_EPILOG = f"""\
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
{exit_codes("done")}
docs: docs/hook.md"""

_INSTALL = f"""\
examples:
  twokey hook install /srv/git/shop.git --repository git.example.com/org/shop
  twokey hook install /srv/git/shop.git --bootstrap-policy policy.yml \\
      --ledger sqlite:///srv/twokey/ledger.db

The repository id is what every approval names. Without --repository the hook requires the
id git config twokey.repository gives, else the origin URL, else the directory name (shop for
/srv/git/shop.git); install prints it. Clones compute theirs from their origin URL, so give the
server the id its clones compute (--repository git.example.com/org/shop), or let each clone
name the server's id once: git config twokey.repository ID.

One push may update at most 1000 refs under refs/twokey/, holding at most 16 MiB of
envelopes; the hook refuses a bigger one before reading it. To change that for this server:
git config twokey.maxPushEvidence 5000 (and twokey.maxPushEvidenceBytes 64m).
{exit_codes("installed")}"""

_UNINSTALL = f"""\
examples:
  twokey hook uninstall /srv/git/shop.git

Removes only a hook twokey installed; the twokey.* git config and the ledger stay.
{exit_codes("removed, or no twokey hook was installed")}"""

_SERVE = f"""\
examples:
  twokey hook serve --socket /run/twokey/hook.sock &
  twokey hook install /srv/git/shop.git --server-socket /run/twokey/hook.sock

The server keeps twokey's code loaded so a push does not pay Python's start-up; a hook whose
server does not answer judges the push itself. Stop it with Ctrl-C or SIGTERM.
{exit_codes("stopped")}"""

_RUN = f"""\
examples:
  twokey hook run < updates     # what .git/hooks/pre-receive runs; GIT_DIR names the repository

git calls it with one "OLD NEW REF" line per ref update on standard input (githooks(5)).
{exit_codes("every update allowed", "some update denied")}
git refuses the whole push on every code but 0."""


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
    install = add_command(
        commands,
        "install",
        "install the pre-receive hook",
        _INSTALL,
        description="Install twokey's pre-receive hook in a git server repository and print the "
        "repository id that approvals must name.",
    )
    install.add_argument("path", type=Path, help="the (bare) repository on the server")
    install.add_argument(
        "--bootstrap-policy",
        type=Path,
        metavar="FILE",
        help="trusted policy until the default branch carries .twokey/policy.yml",
    )
    install.add_argument(
        "--ledger",
        metavar="URL",
        help="ledger for every decision, stored as git config twokey.ledger "
        "(sqlite:///PATH or postgresql://...)",
    )
    install.add_argument(
        "--repository",
        metavar="ID",
        help="repository id approvals must name, stored as git config twokey.repository "
        "(default: see below)",
    )
    install.add_argument(
        "--ledger-key",
        type=Path,
        metavar="FILE",
        help="private key (twokey ledger keygen) that signs a checkpoint after each recorded "
        "push, stored as git config twokey.ledgerKey",
    )
    install.add_argument(
        "--server-socket",
        type=Path,
        metavar="PATH",
        help="ask a warm 'twokey hook serve' on this socket first (fast path)",
    )
    install.add_argument("--force", action="store_true", help="replace another pre-receive hook")
    install.set_defaults(handler=_install)
    uninstall = add_command(
        commands,
        "uninstall",
        "remove twokey's pre-receive hook",
        _UNINSTALL,
        description="Remove the pre-receive hook twokey installed (another hook is left alone).",
    )
    uninstall.add_argument("path", type=Path, help="the (bare) repository on the server")
    uninstall.set_defaults(handler=_uninstall)
    serve = add_command(
        commands,
        "serve",
        "keep twokey loaded and judge pushes for hooks installed --server-socket",
        _SERVE,
        description="A warm server that judges pushes for hooks installed with --server-socket.",
    )
    serve.add_argument(
        "--socket", type=Path, required=True, metavar="PATH", help="the Unix socket to listen on"
    )
    serve.set_defaults(handler=_serve)
    run = add_command(
        commands,
        "run",
        "run as git's pre-receive hook (reads its stdin)",
        _RUN,
        description="Judge the ref updates git passes on standard input, as the pre-receive hook.",
    )
    run.set_defaults(handler=_run)
    parser.set_defaults(handler=help_handler(parser))


def _install(args: argparse.Namespace) -> int:
    from twokey.doors import install_hook  # noqa: PLC0415

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
    _print_repository(args.path)
    if args.bootstrap_policy is not None:
        print(
            f"bootstrap policy: {args.bootstrap_policy} (trusted until the default branch has one)"
        )
    return ExitCode.ALLOW


def _print_repository(path: Path) -> None:
    """Say which repository id approvals must name, and how a clone names the same one."""
    from twokey.doors import resolve_git_dir  # noqa: PLC0415
    from twokey.evidence import repository_id  # noqa: PLC0415

    repository = repository_id(resolve_git_dir(path))
    print(f"repository id: {repository} (every approval must name it)")
    print(
        "  a clone whose origin URL gives another id names this one once:\n"
        f"  git config twokey.repository {repository}"
    )


def _uninstall(args: argparse.Namespace) -> int:
    from twokey.doors import uninstall_hook  # noqa: PLC0415

    removed = uninstall_hook(args.path)
    print("removed the pre-receive hook" if removed else "no twokey hook was installed")
    return ExitCode.ALLOW


def _serve(args: argparse.Namespace) -> int:
    from twokey.doors import serve  # noqa: PLC0415

    print(f"twokey hook server on {args.socket}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is the way to stop it
        serve(args.socket)
    return ExitCode.ALLOW


def _run(args: argparse.Namespace) -> int:
    del args
    from twokey.doors import hook_main  # noqa: PLC0415

    return hook_main()
