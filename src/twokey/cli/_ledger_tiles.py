"""``twokey ledger tiles`` and ``twokey ledger verify --url``: the log as C2SP tlog-tiles.

``tiles`` writes what a static web server needs; ``verify --url`` follows a served log from
its tiles alone, with the log's public key obtained separately, and (with ``--state``)
refuses a log that rolled back or forked since the last checkpoint it verified.
"""

from __future__ import annotations

__all__ = ["tiles_command", "verify_url"]

import argparse
import base64
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from twokey.cli._output import print_json
from twokey.errors import ExitCode, InfrastructureError, UsageError
from twokey.ledger import (
    Checkpoint,
    Fetch,
    Ledger,
    NoteError,
    NoteVerifier,
    RemoteLogError,
    follow,
    open_note,
    write_tiles,
)

if TYPE_CHECKING:
    import httpx

_TIMEOUT = 30.0


def tiles_command(args: argparse.Namespace, ledger: Ledger) -> int:
    """Write the tiles, entry bundles and checkpoint under ``--out``."""
    written = write_tiles(ledger, Path(args.out))
    data = {
        "size": written.size,
        "tiles": written.tiles,
        "bundles": written.bundles,
        "directory": args.out,
    }
    text = (
        f"wrote {written.tiles} tiles, {written.bundles} entry bundles and the checkpoint of "
        f"size {written.size} to {args.out}"
    )
    return _print(args, data, text)


def verify_url(args: argparse.Namespace, verifier: NoteVerifier | None) -> int:
    """Verify the log served at ``--url`` from its tiles (and against ``--state``)."""
    if verifier is None:
        raise UsageError(
            "--url needs --key: the log's public key, obtained separately (a key the log "
            "serves itself would prove nothing)"
        )
    if args.since:
        raise UsageError("--since is for a local ledger; with --url, use --state FILE")
    state = Path(args.state) if args.state else None
    previous = _read_state(state, verifier) if state else None
    import httpx  # noqa: PLC0415 - slow to import; only this command needs it

    with httpx.Client(base_url=_base(args.url), timeout=_TIMEOUT) as client:
        report = follow(_http_fetch(client, httpx.HTTPError), verifier, previous)
    if state is not None:
        _save_state(state, report.note)
    checkpoint = report.checkpoint
    data: dict[str, object] = {
        "ok": True,
        "url": args.url,
        "size": checkpoint.size,
        "root": base64.b64encode(checkpoint.root).decode(),
        "tiles": report.tiles,
        "bundles": report.bundles,
        "previous": None if previous is None else previous.size,
        "state": args.state,
        "proved": "signed",
    }
    text = (
        f"ok: the log at {args.url} verifies: {checkpoint.size} entries reproduce the checkpoint "
        f"signed by {verifier.name}+{verifier.key_id.hex()}; {report.tiles} tiles and "
        f"{report.bundles} entry bundles match"
    )
    if previous is not None:
        text += f"\nit extends the checkpoint of size {previous.size} verified before"
    if state is not None:
        text += f"\nsaved the checkpoint of size {checkpoint.size} to {state}"
    return _print(args, data, text)


def _print(args: argparse.Namespace, data: dict[str, object], text: str) -> int:
    if args.format == "json":
        print_json(data)
    else:
        print(text)
    return ExitCode.ALLOW


def _base(url: str) -> str:
    if not url.startswith(("https://", "http://")):
        raise UsageError(f"--url {url!r} is not an http(s) URL")
    return url if url.endswith("/") else url + "/"


def _http_fetch(client: httpx.Client, errors: type[Exception]) -> Fetch:
    """GET a path under the prefix: the body (at most ``limit`` bytes), None for a 404."""

    def fetch(path: str, limit: int) -> bytes | None:
        try:
            with client.stream("GET", path) as response:
                if response.status_code == 404:
                    return None
                if response.status_code != 200:
                    raise InfrastructureError(
                        f"GET {response.url} answered HTTP {response.status_code}"
                    )
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > limit:
                        raise RemoteLogError(f"{path} is larger than {limit} bytes")
                return bytes(body)
        except errors as exc:
            raise InfrastructureError(
                f"cannot fetch {path} from {client.base_url}: {exc}",
                hint="check the URL and that the log's server is reachable",
            ) from exc

    return fetch


def _read_state(path: Path, verifier: NoteVerifier) -> Checkpoint | None:
    """The checkpoint verified last time, or None on the first run (no file yet)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"cannot read the state file {path}: {exc.strerror}") from exc
    try:
        checkpoint = Checkpoint.parse(open_note(data.decode("utf-8"), verifier))
    except (UnicodeDecodeError, NoteError) as exc:
        reason = exc.message if isinstance(exc, NoteError) else "it is not UTF-8"
        raise NoteError(
            f"the state file {path} does not hold a checkpoint signed by the key: {reason}"
        ) from exc
    if checkpoint.origin != verifier.name:
        raise NoteError(f"the state file {path} is a checkpoint of {checkpoint.origin!r}")
    return checkpoint


def _save_state(path: Path, note: str) -> None:
    """Replace the state file in one rename, so a crash leaves the old or the new one."""
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(note)
        os.replace(temporary, path)
    except OSError as exc:
        raise InfrastructureError(f"cannot save the state file {path}: {exc.strerror}") from exc
