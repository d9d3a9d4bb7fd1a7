"""Offline artefacts for auditors: inclusion proof bundles and whole-log exports.

Proof bundle (after the C2SP tlog-proof draft)::

    c2sp.org/tlog-proof@v1
    index <N>
    <base64 hash>            one line per proof hash
    <blank line>
    <signed checkpoint note>

Export directory: ``entries.jsonl`` (``{"index": N, "data": base64 of the exact bytes}`` per
line), ``checkpoints.jsonl`` (``{"size": N, "note": signed note}``) and ``verifier.key``.
"""

from __future__ import annotations

__all__ = ["ProofBundle", "export_log", "verify_export"]

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from twokey.ledger._ledger import Ledger, LedgerCorruptError
from twokey.ledger._merkle import EMPTY_ROOT, leaf_hash, node_hash, verify_inclusion
from twokey.ledger._note import Checkpoint, NoteError, NoteVerifier, open_note
from twokey.ledger._store import fold_root

HEADER = "c2sp.org/tlog-proof@v1"


@dataclass(frozen=True)
class ProofBundle:
    """An inclusion proof of one entry, with the signed checkpoint it leads to."""

    index: int
    proof: tuple[bytes, ...]
    checkpoint_note: str

    def text(self) -> str:
        """The bundle's text form."""
        hashes = "".join(base64.b64encode(h).decode() + "\n" for h in self.proof)
        return f"{HEADER}\nindex {self.index}\n{hashes}\n{self.checkpoint_note}"

    @classmethod
    def parse(cls, text: str) -> ProofBundle:
        """Parse the text form (raises NoteError when malformed)."""
        head, sep, note = text.partition("\n\n")
        lines = head.split("\n")
        if not sep or len(lines) < 2 or lines[0] != HEADER or not lines[1].startswith("index "):
            raise NoteError(f"not a {HEADER} bundle")
        try:
            index = int(lines[1].removeprefix("index "))
            proof = tuple(base64.b64decode(line, validate=True) for line in lines[2:])
        except (ValueError, binascii.Error) as exc:
            raise NoteError(f"malformed proof bundle: {exc}") from exc
        return cls(index, proof, note)

    def verify(self, entry: bytes, verifier: NoteVerifier) -> Checkpoint:
        """Check the checkpoint signature and that ``entry`` is at ``index`` under it."""
        checkpoint = Checkpoint.parse(open_note(self.checkpoint_note, verifier))
        verify_inclusion(
            leaf_hash(entry), self.index, checkpoint.size, list(self.proof), checkpoint.root
        )
        return checkpoint


def export_log(ledger: Ledger, directory: Path, verifier: NoteVerifier | None) -> int:
    """Write the log for an auditor; returns how many entries were written."""
    directory.mkdir(parents=True, exist_ok=True)
    count = 0
    with (directory / "entries.jsonl").open("w") as out:
        for index, data in ledger.entries():
            out.write(json.dumps({"index": index, "data": base64.b64encode(data).decode()}) + "\n")
            count += 1
    with (directory / "checkpoints.jsonl").open("w") as out:
        for checkpoint in ledger.checkpoints():
            out.write(json.dumps({"size": checkpoint.size, "note": checkpoint.note}) + "\n")
    if verifier is not None:
        (directory / "verifier.key").write_text(verifier.text() + "\n")
    return count


def verify_export(
    directory: Path, verifier: NoteVerifier, progress: Callable[[int], None] | None = None
) -> tuple[int, int]:
    """Recompute an export and check every checkpoint; returns (entries, checkpoints).

    Needs nothing but the export and the log's public key. Raises
    :class:`LedgerCorruptError` naming the first bad index, or NoteError for a bad signature.
    """
    checkpoints = _read_checkpoints(directory, verifier)
    if not checkpoints:
        raise LedgerCorruptError("the export holds no signed checkpoint", None)
    roots = {0: EMPTY_ROOT}
    frontier: list[tuple[int, bytes]] = []
    count = 0
    try:
        with (directory / "entries.jsonl").open() as lines:
            for line in lines:
                _add(frontier, count, line)
                count += 1
                if count in checkpoints:
                    roots[count] = fold_root([h for _, h in frontier])
                if progress is not None and count % 65536 == 0:
                    progress(count)
    except OSError as exc:
        raise LedgerCorruptError(f"cannot read the export: {exc}", None) from exc
    for size, checkpoint in sorted(checkpoints.items()):
        if size > count:
            raise LedgerCorruptError(
                f"the export is truncated: {count} entries, but a checkpoint covers {size}", count
            )
        if roots.get(size) != checkpoint.root:
            raise LedgerCorruptError(
                f"entries before index {size} do not produce the signed checkpoint of size {size}",
                None,
            )
    return count, len(checkpoints)


def _add(frontier: list[tuple[int, bytes]], expected: int, line: str) -> None:
    try:
        record = json.loads(line)
        index, data = int(record["index"]), base64.b64decode(record["data"], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise LedgerCorruptError(f"entry line {expected + 1} is malformed", expected) from exc
    if index != expected:
        raise LedgerCorruptError(f"entry {expected} is missing or out of order", expected)
    frontier.append((0, leaf_hash(data)))
    while len(frontier) > 1 and frontier[-1][0] == frontier[-2][0]:
        (height, right), (_, left) = frontier.pop(), frontier.pop()
        frontier.append((height + 1, node_hash(left, right)))


def _read_checkpoints(directory: Path, verifier: NoteVerifier) -> dict[int, Checkpoint]:
    out: dict[int, Checkpoint] = {}
    try:
        lines = (directory / "checkpoints.jsonl").read_text().splitlines()
    except OSError as exc:
        raise LedgerCorruptError(f"cannot read checkpoints: {exc}", None) from exc
    for line in lines:
        try:
            note = json.loads(line)["note"]
        except (ValueError, KeyError, TypeError) as exc:
            raise LedgerCorruptError("a checkpoint line is malformed", None) from exc
        checkpoint = Checkpoint.parse(open_note(note, verifier))
        if out.setdefault(checkpoint.size, checkpoint).root != checkpoint.root:
            raise LedgerCorruptError(
                f"two signed checkpoints of size {checkpoint.size} differ: the log forked", None
            )
    return out
