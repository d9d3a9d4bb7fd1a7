"""Offline artefacts for auditors: C2SP tlog-proof bundles and whole-log exports.

Proof bundle (c2sp.org/tlog-proof, "Format")::

    c2sp.org/tlog-proof@v1
    extra <base64 of the entry's exact bytes>      optional, unauthenticated
    index <N>                                      ASCII decimal, no leading zeros
    <base64 hash>                                  one line per inclusion-proof hash
    <empty line>
    <signed checkpoint note, verbatim>

We put the entry itself in ``extra`` (the spec's "additional data necessary to reconstruct
the record hash"), so one file proves one entry; the inclusion proof authenticates it.

Export directory: ``entries.jsonl`` (``{"index": N, "data": base64 of the exact bytes}`` per
line), ``checkpoints.jsonl`` (``{"size": N, "note": signed note}``) and ``verifier.key``.
"""

from __future__ import annotations

__all__ = ["ExportReport", "ProofBundle", "export_log", "prove", "verify_export"]

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from twokey.errors import UsageError
from twokey.ledger._compact import fold
from twokey.ledger._ledger import Ledger
from twokey.ledger._merkle import EMPTY_ROOT, leaf_hash, verify_inclusion
from twokey.ledger._note import Checkpoint, NoteError, NoteVerifier, open_note
from twokey.ledger._verify import LedgerCorruptError

HEADER = "c2sp.org/tlog-proof@v1"
_INDEX = re.compile(r"^index (0|[1-9][0-9]{0,18})$")
_sha256 = hashlib.sha256


@dataclass(frozen=True)
class ProofBundle:
    """An inclusion proof of one entry, with the signed checkpoint it leads to."""

    index: int
    proof: tuple[bytes, ...]
    checkpoint_note: str
    extra: bytes | None = None

    def text(self) -> str:
        """The bundle's text form (c2sp.org/tlog-proof@v1)."""
        extra = f"extra {base64.b64encode(self.extra).decode()}\n" if self.extra is not None else ""
        hashes = "".join(base64.b64encode(h).decode() + "\n" for h in self.proof)
        return f"{HEADER}\n{extra}index {self.index}\n{hashes}\n{self.checkpoint_note}"

    @classmethod
    def parse(cls, text: str) -> ProofBundle:
        """Parse the text form. Raises NoteError when malformed."""
        head, sep, note = text.partition("\n\n")
        lines = head.split("\n")
        if not sep or lines[0] != HEADER:
            raise NoteError(f"not a {HEADER} proof")
        extra = None
        try:
            if len(lines) > 1 and lines[1].startswith("extra "):
                extra = base64.b64decode(lines.pop(1).removeprefix("extra "), validate=True)
            match = _INDEX.match(lines[1]) if len(lines) > 1 else None
            if match is None:
                raise NoteError(f"a {HEADER} proof needs an `index N` line")
            proof = tuple(base64.b64decode(line, validate=True) for line in lines[2:])
        except (ValueError, binascii.Error) as exc:
            raise NoteError(f"malformed proof: {exc}") from exc
        return cls(int(match.group(1)), proof, note, extra)

    def verify(self, verifier: NoteVerifier, entry: bytes | None = None) -> Checkpoint:
        """Verify offline (c2sp.org/tlog-proof, "Verifying a tlog proof").

        Steps: (1) the leaf hash of ``entry`` (or of ``extra`` when no entry is given);
        (2) the checkpoint's origin is the log's key name and its signature verifies;
        (3) no witness cosignatures are required; (4) the inclusion proof binds the leaf
        hash to the signed root. Raises VerificationError (NoteError, ProofError).
        """
        data = entry if entry is not None else self.extra
        if data is None:  # step 1
            raise UsageError("the proof carries no entry; pass the entry's bytes")
        if entry is not None and self.extra is not None and entry != self.extra:
            raise NoteError("the entry given differs from the entry in the proof")
        checkpoint = Checkpoint.parse(open_note(self.checkpoint_note, verifier))  # step 2
        if checkpoint.origin != verifier.name:
            raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not {verifier.name!r}")
        verify_inclusion(  # step 4
            leaf_hash(data), self.index, checkpoint.size, list(self.proof), checkpoint.root
        )
        return checkpoint


def prove(ledger: Ledger, index: int, checkpoint_note: str, size: int) -> ProofBundle:
    """A bundle proving entry ``index`` under the signed checkpoint of ``size`` entries."""
    proof = ledger.inclusion_proof(index, size)
    return ProofBundle(index, tuple(proof), checkpoint_note, ledger.entry(index))


@dataclass(frozen=True)
class ExportReport:
    """What an export holds and what its checkpoints cover."""

    entries: int
    checkpoints: int
    signed: int  # entries covered by the largest signed checkpoint


def export_log(ledger: Ledger, directory: Path, verifier: NoteVerifier | None) -> ExportReport:
    """Write the log (one snapshot of it) for an auditor."""
    directory.mkdir(parents=True, exist_ok=True)
    with ledger.store.snapshot():
        size = ledger.size()
        with (directory / "entries.jsonl").open("w") as out:
            for index, data in ledger.entries(0, size):
                record = {"index": index, "data": base64.b64encode(data).decode()}
                out.write(json.dumps(record) + "\n")
        checkpoints = [c for c in ledger.checkpoints() if c.size <= size]
    with (directory / "checkpoints.jsonl").open("w") as out:
        for checkpoint in checkpoints:
            out.write(json.dumps({"size": checkpoint.size, "note": checkpoint.note}) + "\n")
    if verifier is not None:
        (directory / "verifier.key").write_text(verifier.text() + "\n")
    signed = max((c.size for c in checkpoints), default=0)
    return ExportReport(size, len(checkpoints), signed)


def verify_export(
    directory: Path, verifier: NoteVerifier, progress: Callable[[int], None] | None = None
) -> ExportReport:
    """Recompute an export and check every signed checkpoint against it.

    Needs nothing but the export and the log's public key. Steps: (1) every checkpoint's
    signature verifies and no two of one size differ; (2) entries are read in index order and
    the tree rebuilt; (3) the root at every checkpoint's size equals the signed root.

    Raises:
        LedgerCorruptError: naming the first bad index where one can be named.
        NoteError: a checkpoint's signature does not verify.
    """
    checkpoints = _read_checkpoints(directory, verifier)  # step 1
    if not checkpoints:
        raise LedgerCorruptError("the export holds no signed checkpoint", None)
    roots = {0: EMPTY_ROOT}
    stack: list[bytes] = []
    count = 0
    for index, data in _read_entries(directory):  # step 2
        if index != count:
            raise LedgerCorruptError(f"entry {count} is missing or out of order", count)
        node, i = _sha256(b"\x00" + data).digest(), index
        while i & 1:
            node, i = _sha256(b"\x01" + stack.pop() + node).digest(), i >> 1
        stack.append(node)
        count += 1
        if count in checkpoints:
            roots[count] = fold(stack)
        if progress is not None and not count % 65536:
            progress(count)
    good = 0
    for size, checkpoint in sorted(checkpoints.items()):  # step 3
        if size > count:
            raise LedgerCorruptError(
                f"the export is truncated: {count} entries, but a checkpoint covers {size}", count
            )
        if roots[size] != checkpoint.root:
            raise LedgerCorruptError(
                f"entries {good}..{size - 1} do not reproduce the signed checkpoint of size "
                f"{size}: one of them was changed",
                None,
            )
        good = size
    return ExportReport(count, len(checkpoints), good)


def _read_entries(directory: Path) -> Iterator[tuple[int, bytes]]:
    try:
        with (directory / "entries.jsonl").open("rb") as lines:
            for number, line in enumerate(lines):
                try:  # UnicodeDecodeError is a ValueError: a line that is not UTF-8 is named
                    record = json.loads(line.decode("utf-8"))
                    yield int(record["index"]), base64.b64decode(record["data"], validate=True)
                except (ValueError, KeyError, TypeError, binascii.Error) as exc:
                    raise LedgerCorruptError(
                        f"entry line {number + 1} is malformed", number
                    ) from exc
    except OSError as exc:
        raise UsageError(f"cannot read the export's entries: {exc}") from exc


def _read_checkpoints(directory: Path, verifier: NoteVerifier) -> dict[int, Checkpoint]:
    out: dict[int, Checkpoint] = {}
    try:
        lines = (directory / "checkpoints.jsonl").read_bytes().splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read the export's checkpoints: {exc}") from exc
    for number, line in enumerate(lines, 1):
        try:
            note = str(json.loads(line.decode("utf-8"))["note"])
        except (ValueError, KeyError, TypeError) as exc:
            raise LedgerCorruptError(
                f"checkpoint line {number} is malformed ({type(exc).__name__})", None
            ) from exc
        checkpoint = Checkpoint.parse(open_note(note, verifier))
        if checkpoint.origin != verifier.name:
            raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not {verifier.name!r}")
        if out.setdefault(checkpoint.size, checkpoint).root != checkpoint.root:
            raise LedgerCorruptError(
                f"two signed checkpoints of size {checkpoint.size} differ: the log forked", None
            )
    return out
