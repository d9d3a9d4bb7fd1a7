"""C2SP signed notes and checkpoints, against the published vectors."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import load_der_public_key

from tests.unit.ledger.vectors import MISSING, TLOG
from twokey.ledger import leaf_hash, verify_inclusion
from twokey.ledger._note import (
    Checkpoint,
    NoteError,
    NoteSigner,
    NoteVerifier,
    generate_signer,
    open_note,
    sign_note,
)

pytestmark = pytest.mark.skipif(not TLOG.is_dir(), reason=MISSING)


def _vectors() -> list[dict[str, Any]]:
    if not TLOG.is_dir():
        return []
    return list(json.loads((TLOG / "signed-note.json").read_text())["vectors"])


@pytest.mark.parametrize("vector", _vectors(), ids=lambda v: v["name"])
def test_signed_note_vectors(vector: dict[str, Any]) -> None:
    verifier = NoteVerifier.parse(vector["vkey"])
    assert verifier.text() == vector["vkey"]
    assert open_note(vector["note"], verifier) == vector["signed_text"]
    if "skey" in vector:
        signer = NoteSigner.parse(vector["skey"])
        assert signer.text() == vector["skey"]
        assert sign_note(vector["signed_text"], signer) == vector["note"]  # byte for byte


def test_rekor_v2_checkpoint_and_inclusion() -> None:
    v = json.loads((TLOG / "rekor-v2-staging-entry.json").read_text())
    der = base64.b64decode(v["log_public_key_spki_der"])
    public = load_der_public_key(der).public_bytes_raw()  # type: ignore[union-attr]
    origin = v["checkpoint"].split("\n", 1)[0]
    vkey = NoteVerifier(origin, bytes.fromhex(v["expected"]["note_key_id_hex"]), public)
    NoteVerifier.parse(vkey.text())  # the key id is SHA-256(origin || \n || 0x01 || key)[:4]
    checkpoint = Checkpoint.parse(open_note(v["checkpoint"], vkey))
    assert (checkpoint.size, checkpoint.root) == (v["treeSize"], base64.b64decode(v["rootHash"]))
    leaf = leaf_hash(base64.b64decode(v["canonicalizedBody"]))
    verify_inclusion(
        leaf,
        v["logIndex"],
        checkpoint.size,
        [base64.b64decode(h) for h in v["hashes"]],
        checkpoint.root,
    )


def test_tampered_note_is_refused() -> None:
    signer = generate_signer("log.example")
    note = sign_note(Checkpoint("log.example", 3, b"\x01" * 32).body(), signer)
    verifier = signer.verifier()
    assert Checkpoint.parse(open_note(note, verifier)).size == 3
    with pytest.raises(NoteError, match="does not verify"):
        open_note(note.replace("\n3\n", "\n4\n"), verifier)
    with pytest.raises(NoteError, match="is not signed by"):
        open_note(note, generate_signer("log.example").verifier())
    with pytest.raises(NoteError, match="no signature block"):
        open_note("just text\n", verifier)


@pytest.mark.parametrize(
    "body",
    ["o\n", "o\nx\nAA==\n", "o\n01\n" + "A" * 44 + "\n", "o\n1\nAAAA\n"],
    ids=["short", "bad-size", "leading-zero", "short-root"],
)
def test_malformed_checkpoints(body: str) -> None:
    with pytest.raises(NoteError, match="checkpoint"):
        Checkpoint.parse(body)
