"""``twokey ledger ...``: the transparency log from the command line.

Thin handlers over :mod:`twokey.ledger`. Exit codes: 0 ok, 1 verification failed (the log,
a proof or a signature is bad), 2 usage error, 3 storage unreachable or internal error.
"""

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

from twokey._files import PUBLIC, SECRET, write_new
from twokey.cli._output import Subparsers, add_command, add_format, help_handler, print_json
from twokey.errors import ExitCode, TwokeyError, UsageError
from twokey.ledger import (
    DEFAULT_LEDGER,
    Assurance,
    Checkpoint,
    Entry,
    EntryKind,
    Ledger,
    LedgerCorruptError,
    Level,
    NoteError,
    NoteSigner,
    NoteVerifier,
    ProofBundle,
    assess,
    export_log,
    generate_signer,
    open_ledger,
    open_note,
    prove,
    verify_consistency,
    verify_export,
)

_EPILOG = """\
examples:
  twokey ledger init --ledger sqlite:///var/lib/twokey/ledger.db    # the only one that creates
  twokey ledger keygen --name ledger.example.com --out ledger.key   # also writes ledger.key.pub
  echo '{"kind": "note", "body": {"text": "hello"}}' | twokey ledger append
  twokey ledger checkpoint --key ledger.key > checkpoint.note
  twokey ledger prove --index 0 > entry0.tlog-proof     # uses the latest stored checkpoint
  twokey ledger verify-proof entry0.tlog-proof --key ledger.key.pub   # offline, no database
  twokey ledger verify --key ledger.key.pub
  twokey ledger consistency --from checkpoint.note --key ledger.key.pub
  twokey ledger export audit-2026/ --key ledger.key.pub
  twokey ledger verify-export audit-2026/ --key ledger.key.pub
  twokey ledger tiles --out /var/www/ledger/       # C2SP tlog-tiles for a static web server
  twokey ledger verify --url https://ledger.example.com/ledger/v1/ --key ledger.key.pub \
      --state ledger.state                         # follow a served log from its tiles

The ledger is --ledger URL, else $TWOKEY_LEDGER, else .twokey/ledger.db (SQLite);
postgresql://user@host/db[?schema=NAME] selects PostgreSQL. Only init creates a database.
exit codes: 0 ok, 1 verification failed, 2 usage or bad input (no ledger there), 3 storage or
internal error"""


def register(subparsers: Subparsers) -> None:
    """Register ``twokey ledger``."""
    parser = add_command(
        subparsers,
        "ledger",
        "the tamper-evident log: append, checkpoint, prove, verify, export",
        _EPILOG,
        description="An RFC 6962 Merkle log with C2SP signed checkpoints.",
    )
    commands = parser.add_subparsers(title="ledger commands", metavar="COMMAND")
    for name, handler, text, extra in _COMMANDS:
        sub = add_command(
            commands, name, text, _EPILOG, description=text[0].upper() + text[1:] + "."
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
    parser.set_defaults(handler=help_handler(parser))


@contextmanager
def _open(args: argparse.Namespace, *, create: bool = False) -> Iterator[Ledger]:
    """The ledger ``--ledger`` names; only ``init`` (``create``) may make a new SQLite file, so
    a mistyped path or a deleted database is an error, never a silent new, empty log."""
    url = args.ledger or os.environ.get("TWOKEY_LEDGER") or DEFAULT_LEDGER
    if not create and not url.startswith(("postgresql://", "postgres://")):
        path = Path(url.removeprefix("sqlite://"))
        if not path.exists():
            raise UsageError(f"no ledger at {path}", hint="create one with `twokey ledger init`")
    with open_ledger(url) as ledger:
        yield ledger


def _stdin_bytes() -> bytes:
    """Standard input's bytes (a test's text stdin has no buffer: its text, encoded)."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is not None:
        return bytes(buffer.read())
    return sys.stdin.read().encode("utf-8", "surrogateescape")


def _read(path: str, what: str, bad: type[TwokeyError] = UsageError) -> str:
    """A text file (or stdin); bytes that are not UTF-8 are ``bad`` naming the file."""
    try:
        data = _stdin_bytes() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad(
            f"{what} {path} is not UTF-8 text (byte {exc.start} is {data[exc.start]:#04x})"
        ) from exc


def _signer(path: str) -> NoteSigner:
    try:
        return NoteSigner.parse(_read(path, "private key"))
    except NoteError as exc:
        raise UsageError(f"{path}: {exc.message}") from exc


def _verifier(path: str) -> NoteVerifier:
    text = _read(path, "key").strip()
    try:
        if text.startswith("PRIVATE+KEY+"):
            return NoteSigner.parse(text).verifier()
        return NoteVerifier.parse(text)
    except NoteError as exc:
        raise UsageError(f"{path}: {exc.message}") from exc


def _out(args: argparse.Namespace, data: dict[str, object], text: str) -> None:
    if args.format == "json":
        print_json(data)
    else:
        print(text)


def _init(args: argparse.Namespace) -> int:
    with _open(args, create=True) as ledger:
        size, root = ledger.head()
    _out(
        args,
        {"size": size, "root": base64.b64encode(root).decode()},
        f"ledger ready: {size} entries",
    )
    return ExitCode.ALLOW


def _keygen(args: argparse.Namespace) -> int:
    """The secret key is 0600 from its first byte and never written through a symlink."""
    signer = generate_signer(args.name)
    out = Path(args.out)
    pub = Path(f"{out}.pub")
    if not args.force:
        for name in (out, pub):
            if name.is_symlink() or name.exists():
                raise UsageError(f"{name} exists", hint="pass --force to replace it")
    write_new(out, (signer.text() + "\n").encode(), SECRET, replace=args.force)
    write_new(pub, (signer.verifier().text() + "\n").encode(), PUBLIC, replace=args.force)
    _out(
        args,
        {"private": str(out), "public": str(pub), "vkey": signer.verifier().text()},
        f"wrote {out} (secret) and {pub}: {signer.verifier().text()}",
    )
    return ExitCode.ALLOW


def _append(args: argparse.Namespace) -> int:
    entries = []
    now = datetime.now(UTC)
    for number, raw_line in enumerate(_stdin_bytes().splitlines(), 1):
        if not raw_line.strip():
            continue
        try:
            raw = json.loads(raw_line.decode("utf-8"))
            entry = Entry(EntryKind(raw.get("kind", "note")), raw["body"], now)
            _refuse_door_kinds(entry.kind)
            entry.encode()  # reject floats, huge integers... before anything is written
        except (ValueError, KeyError, TypeError, AttributeError, UsageError) as exc:
            reason = exc.message if isinstance(exc, UsageError) else str(exc)
            if isinstance(exc, UnicodeDecodeError):
                reason = "not UTF-8"
            raise UsageError(
                f'stdin line {number}: expected {{"kind": ..., "body": {{...}}}}'
                f" ({reason}); nothing was appended"
            ) from exc
        entries.append(entry)
    with _open(args) as ledger:
        indices = ledger.append(entries)
    _out(args, {"indices": indices}, "\n".join(str(i) for i in indices))
    return ExitCode.ALLOW


# Kinds only the doors write, each with the evidence it rests on: an entry appended by hand
# would be a record nobody decided (issue 14, hole 1). The audit does not trust them either
# unless they carry evidence it verifies itself; refusing them here keeps the log honest.
_HAND_KINDS = frozenset({EntryKind.NOTE})


def _refuse_door_kinds(kind: EntryKind) -> None:
    if kind not in _HAND_KINDS:
        raise UsageError(
            f"kind {kind.value!r} is written only by twokey's doors (the hook, check, deploy "
            "check, break-glass review); `ledger append` writes notes"
        )


def _checkpoint(args: argparse.Namespace) -> int:
    with _open(args) as ledger:
        note = ledger.checkpoint(_signer(args.key))
    _out(args, {"note": note}, note.rstrip("\n"))
    return ExitCode.ALLOW


def _prove(args: argparse.Namespace) -> int:
    with _open(args) as ledger:
        if args.key:
            note = ledger.checkpoint(_signer(args.key))
            size = _note_size(note)
        else:
            latest = ledger.latest_checkpoint(covering=args.index + 1)
            if latest is None:
                raise UsageError(
                    f"no stored checkpoint covers entry {args.index}",
                    hint="run `twokey ledger checkpoint --key KEY` first, or pass --key",
                )
            note, size = latest.note, latest.size
        bundle = prove(ledger, args.index, note, size)
    text = bundle.text()
    _out(args, {"proof": text, "index": args.index, "size": size}, text.rstrip("\n"))
    return ExitCode.ALLOW


def _note_size(note: str) -> int:
    return Checkpoint.parse(note[: note.rfind("\n\n") + 1]).size


def _verify_proof(args: argparse.Namespace) -> int:
    bundle = ProofBundle.parse(_read(args.bundle, "proof", NoteError))
    try:
        entry = Path(args.entry).read_bytes() if args.entry else None
    except OSError as exc:
        raise UsageError(f"cannot read the entry {args.entry}: {exc.strerror}") from exc
    checkpoint = bundle.verify(_verifier(args.key), entry)
    _out(
        args,
        {"ok": True, "index": bundle.index, "size": checkpoint.size},
        f"ok: entry {bundle.index} is in the log of size {checkpoint.size}",
    )
    return ExitCode.ALLOW


def _consistency(args: argparse.Namespace) -> int:
    old = _trusted_checkpoint(args.old, _verifier(args.key))
    with _open(args) as ledger:
        size, root = ledger.head()
        if old.size > size:
            raise LedgerCorruptError(
                f"the log holds {size} entries, fewer than the checkpoint's {old.size}: "
                "it was truncated",
                size,
            )
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


def _trusted_checkpoint(path: str, verifier: NoteVerifier) -> Checkpoint:
    checkpoint = Checkpoint.parse(open_note(_read(path, "checkpoint", NoteError), verifier))
    if checkpoint.origin != verifier.name:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not {verifier.name!r}")
    return checkpoint


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
    if args.url:
        from twokey.cli._ledger_tiles import verify_url  # noqa: PLC0415 - httpx is slow

        return verify_url(args, verifier)
    since = None
    if args.since:
        if verifier is None:
            raise UsageError("--since needs --key to check the old checkpoint's signature")
        since = _trusted_checkpoint(args.since, verifier)
    with _open(args) as ledger:
        update, stop = _progress(ledger.size())
        try:
            report = ledger.verify(verifier, since=since, progress=update)
        finally:
            stop()
    assurance = assess(report.size, report.checkpoints, report.signed, verifier)
    code = _accepted(assurance, args)
    data: dict[str, object] = {
        "ok": code == ExitCode.ALLOW,
        "size": report.size,
        "checked_from": report.checked_from,
        "checkpoints": report.checkpoints,
        "root": base64.b64encode(report.root).decode(),
        **assurance.to_dict(),
    }
    _out(
        args,
        data,
        f"{'ok' if assurance.level is Level.SIGNED else 'consistent'}: {report.size} entries "
        f"verify (from index {report.checked_from}); {report.checkpoints} checkpoint(s) match\n"
        + assurance.summary(),
    )
    return code


def _tiles(args: argparse.Namespace) -> int:
    from twokey.cli._ledger_tiles import tiles_command  # noqa: PLC0415

    with _open(args) as ledger:
        return tiles_command(args, ledger)


def _accepted(assurance: Assurance, args: argparse.Namespace) -> int:
    """Exit 0 only for what was asked: a trusted signed checkpoint, unless told otherwise."""
    if assurance.level is Level.SIGNED or args.consistency_only:
        return ExitCode.ALLOW
    if assurance.level is Level.NOTHING and getattr(args, "allow_no_checkpoint", False):
        return ExitCode.ALLOW
    return ExitCode.DENY


def _export(args: argparse.Namespace) -> int:
    with _open(args) as ledger:
        report = export_log(ledger, Path(args.directory), _verifier(args.key) if args.key else None)
    _out(
        args,
        {
            "entries": report.entries,
            "checkpoints": report.checkpoints,
            "signed": report.signed,
            "directory": args.directory,
        },
        f"exported {report.entries} entries and {report.checkpoints} checkpoint(s) to "
        f"{args.directory}" + _unsigned(report.entries, report.signed),
    )
    return ExitCode.ALLOW


def _unsigned(entries: int, signed: int) -> str:
    if entries == signed:
        return ""
    return (
        f"\nwarning: entries {signed}..{entries - 1} are covered by no signed checkpoint; "
        "run `twokey ledger checkpoint` before exporting"
    )


def _verify_export(args: argparse.Namespace) -> int:
    """Never trust the export's own ``verifier.key``: it only checks consistency."""
    directory = Path(args.directory)
    trusted = _verifier(args.key) if args.key else None
    report = verify_export(directory, trusted or _verifier(str(directory / "verifier.key")))
    assurance = assess(report.entries, report.checkpoints, report.signed, trusted)
    code = _accepted(assurance, args)
    _out(
        args,
        {
            "ok": code == ExitCode.ALLOW,
            "entries": report.entries,
            "checkpoints": report.checkpoints,
            "signed": report.signed,
            **assurance.to_dict(),
        },
        f"{'ok' if trusted else 'consistent'}: {report.entries} entries reproduce "
        f"{report.checkpoints} signed checkpoint(s)"
        + ("" if trusted else " (signed by the export's own verifier.key)")
        + _unsigned(report.entries, report.signed)
        + ("" if trusted else "\n" + assurance.summary()),
    )
    return code


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
    p.add_argument("--index", type=_index, required=True, help="entry index (from 0)")
    p.add_argument(
        "--key",
        help="private key: sign a fresh checkpoint for the proof (default: use the latest "
        "stored checkpoint that covers the entry)",
    )


def _index(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("an index is 0 or more")
    return value


def _verify_args(p: argparse.ArgumentParser) -> None:
    _key_arg(False)(p)
    p.add_argument(
        "--since",
        metavar="CHECKPOINT",
        help="check only what is new since this signed checkpoint (and that the log extends it)",
    )
    p.add_argument(
        "--allow-no-checkpoint",
        action="store_true",
        help="exit 0 for a log that has no signed checkpoint yet (it proves nothing)",
    )
    _consistency_only_arg(p)
    p.add_argument(
        "--url",
        help="verify the C2SP tlog-tiles log served at this URL prefix instead of a local "
        "ledger (needs --key)",
    )
    p.add_argument(
        "--state",
        metavar="FILE",
        help="with --url: the checkpoint verified last time; a rolled-back or forked log is "
        "refused, and the new checkpoint is saved here",
    )


def _consistency_only_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--consistency-only",
        action="store_true",
        help="exit 0 without a trusted key (the output still says only consistency was proved)",
    )


def _verify_proof_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("bundle", help="c2sp.org/tlog-proof file (from `twokey ledger prove`) or -")
    p.add_argument(
        "--entry", help="file holding the entry's exact bytes (default: the one in the proof)"
    )
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


def _tiles_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="directory to write checkpoint and tile/... into (serve it as the log's prefix)",
    )


def _verify_export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("directory", help="the export to verify (written by twokey ledger export)")
    p.add_argument(
        "--key",
        default=os.environ.get("TWOKEY_LEDGER_KEY"),
        help="the log's public key, obtained separately (default: $TWOKEY_LEDGER_KEY); the "
        "export's own verifier.key is never trusted: without a key only consistency is proved",
    )
    _consistency_only_arg(p)


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
    (
        "verify-export",
        _verify_export,
        "verify an export offline with the public key",
        _verify_export_args,
    ),
    ("tiles", _tiles, "write the log as C2SP tlog-tiles for a static server", _tiles_args),
)
