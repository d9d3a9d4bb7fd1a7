"""The ``twokey`` command line: thin handlers over the library.

Each command group lives in its own ``_name.py`` module exposing
``register(subparsers) -> None``; the handler it installs (``set_defaults(handler=...)``)
takes the parsed namespace and returns an exit code.

Exit codes (every gate treats 3 as deny):
  0 allow / success, 1 deny / verification failed, 2 usage or policy error, 3 internal error;
  141 (128 + SIGPIPE, as git and cat) when the reader closed our output early (``| head``).
"""

from __future__ import annotations

__all__ = ["HelpFormatter", "add_placeholder", "main"]

import argparse
import gc
import os
import sys
from collections.abc import Callable, Sequence
from importlib import import_module

from twokey import __version__
from twokey._deferred import import_pathlib, import_subprocess
from twokey.errors import ExitCode, TwokeyError

# Not ``typing.TYPE_CHECKING``: ``twokey --help`` imports no typing (start-up time).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Order here is the order of `twokey --help`: command, its module, its one-line help. Only the
# module of the command being run is imported (start-up time: a command's module imports its
# libraries, e.g. ``evidence`` loads cryptography); the others appear in ``twokey --help`` by
# these lines, which a test keeps equal to what each module registers.
_COMMANDS = (
    ("check", "_check", "judge a ref update (base..head) against the policy, for any CI"),
    ("explain", "_explain", "explain a decision: rules, who counted, who did not and why"),
    ("policy", "_policy", "check a policy file, show its resolved rules, print its schema"),
    ("keys", "_keys", "create signing keys; export allowed_signers"),
    ("approve", "_approve", "sign an approval of REV's content and store it in the repository"),
    ("evidence", "_evidence", "list or verify the evidence of a revision"),
    ("attest", "_attest", "sign check results, build provenance and deploy approvals"),
    ("deploy", "_deploy", "check, request, approve and verify deploys"),
    ("break-glass", "_break_glass", "list break-glass exceptions, review them after the fact"),
    ("hook", "_hook", "install or remove the pre-receive hook of a git server repository"),
    ("ledger", "_ledger", "the tamper-evident log: append, checkpoint, prove, verify, export"),
    ("audit", "_audit", "report every change that landed: who wrote, approved, merged"),
    (
        "forge",
        "_forge",
        "import merged pull/merge requests and their reviews from GitHub or GitLab",
    ),
    (
        "serve",
        "_serve",
        "run the gateway: deploy requests, approvals, checks, the web UI and the ledger",
    ),
    (
        "login",
        "_login",
        "sign in to a gateway with your SSH key; --browser prints a one-time web code",
    ),
    ("logout", "_logout", "revoke and forget the saved gateway token"),
    ("tokens", "_tokens", "list or revoke your gateway tokens; create a service's token"),
    ("demo", "_demo", "run the walkthrough on a sample repository (what is refused and why)"),
)

_EPILOG = """\
examples:
  twokey demo                        # the walkthrough on a sample repository
  twokey policy check                # .twokey/policy.yml, every problem at file:line:column
  twokey approve --ssh-key ~/.ssh/id_ed25519
  twokey COMMAND --help              # every command explains its options, examples, exit codes

exit codes: 0 allow, 1 deny, 2 usage or bad input (a policy error too), 3 internal error
(a gate treats 3 as deny); 141 when the reader closed the output early (| head), as git does
docs: README.md and docs/ in the source tree"""

# The doors a gate runs as a process of its own, once per decision (a deploy job, a CI job):
# the cyclic garbage collector stays off for the whole command (ADR 0035). Everything else
# turns it back on once its parser is built.
_SHORT_LIVED = frozenset({("deploy", "check"), ("check", "")})

# Command groups whose ``register`` takes the subcommand being run (see ``build_parser``).
_NARROWED = frozenset({"deploy"})

Handler = Callable[[argparse.Namespace], int]


def _columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size`` finds it ($COLUMNS, then the
    terminal of standard output, else 80)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter (descriptions and examples kept as written), without ``shutil``.

    argparse builds a formatter for every option it registers and asks ``shutil`` for the
    terminal's width, and ``shutil`` imports zlib, bz2 and lzma: a few milliseconds of every
    door's start-up (issue 10 item 9) for a width only ``--help`` uses.
    """

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        width = _columns() - 2 if width is None else width
        super().__init__(prog, indent_increment, max_help_position, width)


class _Placeholder(argparse.ArgumentParser):
    """A command that is not being run: ``twokey --help`` and "invalid choice" list its name and
    one-line help, and argparse never hands it words (``build_parser`` registers in full the
    command the words name). It is built on first use, as the parser it stands for (no
    options, no handler): building ~24 unused parsers was ~2 ms of every door (ADR 0036)."""

    def __init__(self, **kwargs: Any) -> None:
        self._made_with = kwargs

    def __getattr__(self, name: str) -> Any:
        made_with = self.__dict__.pop("_made_with", None)
        if made_with is None:  # built (or being built): a missing attribute is missing
            raise AttributeError(name)
        argparse.ArgumentParser.__init__(self, **made_with)
        return getattr(self, name)


def add_placeholder(subparsers: argparse._SubParsersAction[Any], name: str, text: str) -> None:
    """Register command ``name`` with its one-line help ``text`` and nothing else."""
    made = subparsers._parser_class
    subparsers._parser_class = _Placeholder
    try:
        subparsers.add_parser(name, help=text, add_help=False, formatter_class=HelpFormatter)
    finally:
        subparsers._parser_class = made


def build_parser(command: str | None = None, subcommand: str = "") -> argparse.ArgumentParser:
    """The argument parser; with ``command``, only that command is registered in full.

    The other commands get a placeholder holding their one-line help, so ``twokey --help`` and
    "invalid choice" errors list every command without importing any command module. A command
    group in ``_NARROWED`` is told its ``subcommand`` too, and registers its other subcommands
    the same way (``deploy check`` builds no parser for the gateway's deploy commands).
    """
    parser = argparse.ArgumentParser(
        prog="twokey",
        description="Separation of duties for CI/CD: no change reaches production on one "
        "person's say-so.",
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"twokey {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name, module, text in _COMMANDS:
        if command in (None, name):
            register = import_module(f"twokey.cli.{module}").register
            register(subparsers, subcommand) if name in _NARROWED else register(subparsers)
        else:
            add_placeholder(subparsers, name, text)
    return parser


def _command_of(argv: Sequence[str]) -> tuple[str, str]:
    """The command ``argv`` runs and its subcommand: its first two words that are no option (""
    for none). The top-level options (``--help``, ``--version``) take no value, so the first
    other word is the command; a group in ``_NARROWED`` has no option with a value either, so
    the next one is its subcommand (or argparse's "invalid choice")."""
    command, subcommand, *_ = [*(word for word in argv if not word.startswith("-")), "", ""]
    return command, subcommand


def main(argv: Sequence[str] | None = None, *, collecting: bool | None = None) -> int:
    """Run the command line and return its exit code (see the module docstring).

    Without ``argv`` it runs this process's own command line (the ``twokey`` script, ``python
    -m twokey``): a door run once per process (``deploy check``, ``check``) then ends the
    process itself once its answer is written, without the interpreter's teardown (ADR 0035).
    ``collecting``: whether the cyclic collector was on before the process's entry
    (``twokey.__main__.run``) turned it off to import this module (ADR 0040); None: as it is.
    """
    if collecting is None:
        collecting = gc.isenabled()
    # Start-up makes no cyclic garbage: every object made while importing lives as long as the
    # process, and each collection would only walk them again (ADR 0035).
    gc.disable()
    try:
        command, subcommand = _command_of(sys.argv[1:] if argv is None else argv)
        short = (command, "" if command == "check" else subcommand) in _SHORT_LIVED
        if short:  # a door never makes a URI of a path, nor sends a signal (ADR 0036, 0040)
            import_pathlib()
            import_subprocess()
        parser = build_parser(command, subcommand)
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
            return int(exc.code or 0)
        handler: Handler | None = getattr(args, "handler", None)
        if handler is None:
            parser.print_help(sys.stderr)
            return ExitCode.USAGE
        if collecting and not short:
            gc.enable()
        code = _run(handler, args)
        if short and argv is None:  # this process's own command line: it has answered
            from twokey.doors import end_process  # noqa: PLC0415

            return end_process(code)
        return code
    finally:
        if collecting:
            gc.enable()


def _run(handler: Handler, args: argparse.Namespace) -> int:
    try:
        code = handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        return code
    except BrokenPipeError:
        return _reader_gone()
    except TwokeyError as exc:
        print(f"twokey: error: {exc.diagnostics()}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("twokey: interrupted", file=sys.stderr)
        return ExitCode.INTERNAL
    except Exception as exc:  # fail closed: an internal error is exit 3, which gates treat as deny
        print(f"twokey: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return ExitCode.INTERNAL


def _reader_gone() -> int:
    """The reader of our output went away (``twokey ... | head``): stop quietly, as git does.

    The exit code is the shell's for a death by SIGPIPE: never 0, so a cut-short report is
    never read as an allow. Standard output is pointed at /dev/null first, so that Python's
    final flush of what is still buffered does not fail a second time.
    """
    import signal  # noqa: PLC0415 - only here: a door's start-up imports no signal (ADR 0040)

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # standard output is no file (a test's capture): nothing to do
        pass
    return 128 + signal.SIGPIPE
