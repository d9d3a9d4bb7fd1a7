"""``twokey ledger ...``: the transparency log from the command line."""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from twokey.cli._output import add_format, print_json
from twokey.errors import ExitCode, UsageError
from twokey.ledger import (
    DEFAULT_LEDGER,
    Checkpoint,
    Entry,
    EntryKind,
    Ledger,
    NoteSigner,
    NoteVerifier,
    generate_signer,
    open_ledger,
    open_note,
    verify_consistency,
)
from twokey.ledger._bundle import ProofBundle, export_log, verify_export

_EPILOG = """\
examples:
  twokey ledger keygen --name ledger.example.com --out ledger.key   # also writes ledger.key.pub
  echo '{"kind": "note", "body": {"text": "hello"}}' | twokey ledger append
  twokey ledger checkpoint --key ledger.key > checkpoint.note
  twokey ledger prove --index 0 --key ledger.key > proof.txt
  twokey ledger verify --key ledger.key.pub
  twokey ledger consistency --from checkpoint.note --key ledger.key.pub
  twokey ledger export audit-2026/ --key ledger.key.pub
  twokey ledger verify-export audit-2026/ --key ledger.key.pub

The ledger is --ledger URL, else $TWOKEY_LEDGER, else .twokey/ledger.db (SQLite);
postgresql://user@host/db[?schema=NAME] selects PostgreSQL.
exit codes: 0 ok, 1 verification failed, 2 usage error, 3 storage error"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``twokey ledger``."""
    parser = subparsers.add_parser(
        "ledger",
        help="the tamper-evident log: append, checkpoint, prove, verify, export",
        description="An RFC 6962 Merkle log with C2SP signed checkpoints.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(title="ledger commands", metavar="COMMAND")
    for name, handler, text, extra in _COMMANDS:
        sub = commands.add_parser(
            name,
            help=text,
            description=text[0].upper() + text[1:] + ".",
            epilog=_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument(
            "--ledger",
            metavar="URL",
            default=None,
            help=f"ledger URL or path (default: $TWOKEY_LEDGER or {DEFAULT_LEDGER})",
        )
        add_format(sub)
        extra(sub)
        sub.set_defaults(handler=handler)
    parser.set_defaults(handler=lambda _a: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return ExitCode.USAGE


@contextmanager
def _open(args: argparse.Namespace) -> Iterator[Ledger]:
    with open_ledger(args.ledger) as ledger:
        yield ledger


def _read(path: str, what: str) -> str:
    try:
        return sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from exc


def _signer(path: str) -> NoteSigner:
    return NoteSigner.parse(_read(path, "private key"))


def _verifier(path: str) -> NoteVerifier:
    text = _read(path, "key").strip()
    if text.startswith("PRIVATE+KEY+"):
        return NoteSigner.parse(text).verifier()
    return NoteVerifier.parse(text)


def _out(args: argparse.Namespace, data: dict[str, object], text: str) -> None:
    if args.format == "json":
        print_json(data)
    else:
        print(text)


def _init(args: argparse.Namespace) -> int:
    with _open(args) as ledger:
        size, root = ledger.head()
    _out(
        args,
        {"size": size, "root": base64.b64encode(root).decode()},
        f"ledger ready: {size} entries",
    )
    return ExitCode.ALLOW


def _keygen(args: argparse.Namespace) -> int:
    signer = generate_signer(args.name)
    out = Path(args.out)
    if out.exists() and not args.force:
        raise UsageError(f"{out} exists", hint="pass --force to overwrite it")
    out.write_text(signer.text() + "\n")
    out.chmod(0o600)
    Path(f"{out}.pub").write_text(signer.verifier().text() + "\n")
    _out(
        args,
        {"private": str(out), "public": f"{out}.pub", "vkey": signer.verifier().text()},
        f"wrote {out} (secret) and {out}.pub: {signer.verifier().text()}",
    )
    return ExitCode.ALLOW


def _append(args: argparse.Namespace) -> int:
    entries = []
    now = datetime.now(UTC)
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            entries.append(Entry(EntryKind(raw.get("kind", "note")), dict(raw["body"]), now))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise UsageError(
                f'stdin line {number}: expected {{"kind": ..., "body": {{...}}}}'
                f" ({exc}); nothing was appended"
            ) from exc
    with _open(args) as ledger:
        indices = ledger.append(entries)
    _out(args, {"indices": indices}, "\n".join(str(i) for i in indices))
    return ExitCode.ALLOW


def _checkpoint(args: argparse.Namespace) -> int:
    with _open(args) as ledger:
        note = ledger.checkpoint(_signer(args.key))
    _out(args, {"note": note}, note.rstrip("\n"))
    return ExitCode.ALLOW


def _prove(args: argparse.Namespace) -> int:
    with _open(args) as ledger:
        note = ledger.checkpoint(_signer(args.key))
        size = Checkpoint.parse(note.split("\n\n")[0] + "\n").size
        bundle = ProofBundle(args.index, tuple(ledger.inclusion_proof(args.index, size)), note)
        entry = ledger.entry(args.index)
    _out(
        args,
        {"bundle": bundle.text(), "entry": base64.b64encode(entry).decode()},
        bundle.text().rstrip("\n"),
    )
    return ExitCode.ALLOW


def _verify_proof(args: argparse.Namespace) -> int:
    bundle = ProofBundle.parse(_read(args.bundle, "bundle"))
    entry = Path(args.entry).read_bytes()
    checkpoint = bundle.verify(entry, _verifier(args.key))
    _out(
        args,
        {"ok": True, "index": bundle.index, "size": checkpoint.size},
        f"ok: entry {bundle.index} is in the log of size {checkpoint.size}",
    )
    return ExitCode.ALLOW


def _consistency(args: argparse.Namespace) -> int:
    old = Checkpoint.parse(open_note(_read(args.old, "checkpoint"), _verifier(args.key)))
    with _open(args) as ledger:
        size, root = ledger.head()
        proof = ledger.consistency_proof(old.size, size)
    verify_consistency(old.size, size, proof, old.root, root)
    _out(
        args,
        {
            "ok": True,
            "from": old.size,
            "to": size,
            "proof": [base64.b64encode(p).decode() for p in proof],
        },
        f"ok: the log of size {size} extends the checkpoint of size {old.size}",
    )
    return ExitCode.ALLOW


def _progress(total: int) -> tuple[Callable[[int], None] | None, Callable[[], None]]:
    if not sys.stderr.isatty() or total < 65536:
        return None, lambda: None
    from rich.progress import Progress  # noqa: PLC0415 - only on a terminal

    bar = Progress(transient=True)
    task = bar.add_task("verifying", total=total)
    bar.start()
    return (lambda done: bar.update(task, completed=done)), bar.stop


def _verify(args: argparse.Namespace) -> int:
    verifier = _verifier(args.key) if args.key else None
    since = None
    if args.since:
        if verifier is None:
            raise UsageError("--since needs --key to check the old checkpoint's signature")
        since = Checkpoint.parse(open_note(_read(args.since, "checkpoint"), verifier))
    with _open(args) as ledger:
        update, stop = _progress(ledger.size())
        try:
            report = ledger.verify(verifier, since=since, progress=update)
        finally:
            stop()
    _out(
        args,
        {
            "ok": True,
            "size": report.size,
            "checked_from": report.checked_from,
            "checkpoints": report.checkpoints,
            "root": base64.b64encode(report.root).decode(),
        },
        f"ok: {report.size} entries verify (from index {report.checked_from}); "
        f"{report.checkpoints} checkpoint(s) match",
    )
    return ExitCode.ALLOW


def _export(args: argparse.Namespace) -> int:
    with _open(args) as ledger:
        count = export_log(ledger, Path(args.directory), _verifier(args.key) if args.key else None)
    _out(
        args,
        {"entries": count, "directory": args.directory},
        f"exported {count} entries to {args.directory}",
    )
    return ExitCode.ALLOW


def _verify_export(args: argparse.Namespace) -> int:
    directory = Path(args.directory)
    key = args.key or str(directory / "verifier.key")
    if not args.key:
        print(
            f"warning: using {key} from the export itself; pass --key with the log's public "
            "key obtained separately",
            file=sys.stderr,
        )
    count, checkpoints = verify_export(directory, _verifier(key))
    _out(
        args,
        {"ok": True, "entries": count, "checkpoints": checkpoints},
        f"ok: {count} entries reproduce {checkpoints} signed checkpoint(s)",
    )
    return ExitCode.ALLOW


def _no_args(_parser: argparse.ArgumentParser) -> None:
    pass


def _keygen_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", required=True, help="the log's origin, e.g. ledger.example.com")
    p.add_argument("--out", required=True, help="private key file (the .pub is written beside)")
    p.add_argument("--force", action="store_true", help="overwrite an existing key file")


def _key_arg(required: bool) -> Callable[[argparse.ArgumentParser], None]:
    def add(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--key",
            required=required,
            default=os.environ.get("TWOKEY_LEDGER_KEY"),
            help="signed-note key file (private key to sign, public key to verify)",
        )

    return add


def _prove_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", type=int, required=True, help="entry index")
    _key_arg(True)(p)


def _verify_args(p: argparse.ArgumentParser) -> None:
    _key_arg(False)(p)
    p.add_argument(
        "--since",
        metavar="CHECKPOINT",
        help="check only what is new since this signed checkpoint (and that the log extends it)",
    )


def _verify_proof_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("bundle", help="proof bundle file (from `twokey ledger prove`) or -")
    p.add_argument("--entry", required=True, help="file holding the entry's exact bytes")
    _key_arg(True)(p)


def _consistency_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--from",
        dest="old",
        required=True,
        metavar="CHECKPOINT",
        help="a signed checkpoint handed out earlier",
    )
    _key_arg(True)(p)


def _export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("directory", help="where to write the export")
    _key_arg(False)(p)


_COMMANDS: tuple[
    tuple[str, Callable[[argparse.Namespace], int], str, Callable[[argparse.ArgumentParser], None]],
    ...,
] = (
    ("init", _init, "create the ledger if needed and print its size", _no_args),
    ("keygen", _keygen, "create the log's Ed25519 signed-note key pair", _keygen_args),
    ("append", _append, "append JSON entries read from stdin, one per line", _no_args),
    ("checkpoint", _checkpoint, "sign and store a checkpoint of the tree head", _key_arg(True)),
    ("prove", _prove, "print an offline inclusion proof bundle for one entry", _prove_args),
    ("verify-proof", _verify_proof, "check a proof bundle offline", _verify_proof_args),
    ("consistency", _consistency, "prove the log extends an older checkpoint", _consistency_args),
    ("verify", _verify, "recompute the whole log and check every checkpoint", _verify_args),
    ("export", _export, "write entries and checkpoints for an auditor", _export_args),
    ("verify-export", _verify_export, "verify an export offline with the public key", _export_args),
)
