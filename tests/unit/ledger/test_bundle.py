"""C2SP tlog-proof bundles: text form, parsing and offline verification."""

from __future__ import annotations

import pytest

from twokey.errors import UsageError, VerificationError
from twokey.ledger import (
    Checkpoint,
    NoteError,
    ProofError,
    generate_signer,
    inclusion_proof,
    leaf_hash,
    root,
    sign_note,
)
from twokey.ledger._bundle import ProofBundle

SIGNER = generate_signer("log.example")
DATAS = [b"entry %d" % i for i in range(6)]
LEAVES = [leaf_hash(d) for d in DATAS]
NOTE = sign_note(Checkpoint("log.example", 6, root(LEAVES)).body(), SIGNER)


def _bundle(index: int, extra: bytes | None = None) -> ProofBundle:
    return ProofBundle(index, tuple(inclusion_proof(LEAVES, index, 6)), NOTE, extra)


def test_text_round_trip_and_verify() -> None:
    bundle = _bundle(4, DATAS[4])
    text = bundle.text()
    assert text.startswith("c2sp.org/tlog-proof@v1\nextra ZW50cnkgNA==\nindex 4\n")
    assert ProofBundle.parse(text) == bundle
    assert bundle.verify(SIGNER.verifier()).size == 6
    assert ProofBundle.parse(_bundle(0).text()).verify(SIGNER.verifier(), DATAS[0]).size == 6


@pytest.mark.parametrize(
    ("bundle", "entry", "error", "message"),
    [
        (_bundle(4), DATAS[3], ProofError, "does not lead to the root"),
        (_bundle(4, DATAS[4]), DATAS[3], NoteError, "differs"),
        (_bundle(4), None, UsageError, "carries no entry"),
        (ProofBundle(4, (), NOTE, DATAS[4]), None, ProofError, "too short"),
    ],
    ids=["wrong-entry", "entry-differs-from-extra", "no-entry", "short-proof"],
)
def test_verify_rejects(
    bundle: ProofBundle, entry: bytes | None, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        bundle.verify(SIGNER.verifier(), entry)


def test_a_checkpoint_of_another_origin_is_refused() -> None:
    other = generate_signer("other.example")
    note = sign_note(Checkpoint("log.example", 6, root(LEAVES)).body(), other)
    with pytest.raises(VerificationError, match="origin"):
        ProofBundle(1, tuple(inclusion_proof(LEAVES, 1, 6)), note, DATAS[1]).verify(
            other.verifier()
        )


@pytest.mark.parametrize(
    "text",
    [
        "c2sp.org/tlog-proof@v2\nindex 1\n\n" + NOTE,
        "c2sp.org/tlog-proof@v1\nindex 01\n\n" + NOTE,
        "c2sp.org/tlog-proof@v1\nindex 1\nnot base64!\n\n" + NOTE,
        "c2sp.org/tlog-proof@v1\nindex 1\n",
    ],
    ids=["version", "leading-zero", "bad-hash", "no-checkpoint"],
)
def test_parse_rejects(text: str) -> None:
    with pytest.raises(NoteError):
        ProofBundle.parse(text)
