"""Every public transparency-log vector in shared/vectors/tlog passes."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.unit.ledger.vectors import MISSING, TLOG
from twokey.ledger import (
    EMPTY_ROOT,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

pytestmark = pytest.mark.skipif(not TLOG.is_dir(), reason=MISSING)


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def _files(kind: str) -> list[Path]:
    return (
        sorted((TLOG / "transparency-dev-merkle" / kind).rglob("*.json")) if TLOG.is_dir() else []
    )


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def _load(path: Path) -> Any:
    return json.loads(path.read_text())


@pytest.mark.parametrize("path", _files("inclusion"), ids=_id)
def test_transparency_dev_inclusion(path: Path) -> None:
    v = _load(path)
    args = (
        _b64(v["leafHash"]),
        v["leafIdx"],
        v["treeSize"],
        [_b64(p) for p in v["proof"] or []],
        _b64(v["root"]),
    )
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


def _size0_convention(v: dict[str, Any]) -> bool:
    """transparency-dev rejects every proof from size 0; we accept exactly the empty proof."""
    return bool(
        v["size1"] == 0 and v["size2"] > 0 and not v["proof"] and _b64(v["root1"]) == EMPTY_ROOT
    )


def test_size0_convention_differs_from_transparency_dev_on_exactly_one_vector() -> None:
    """Documented in docs/ledger.md: ``0 -> n`` with an empty proof and SHA-256("") is valid.

    transparency-dev marks that probe as an error; CCTV marks it valid. Every other size-0
    probe of both sets (bad roots, non-empty proofs, 0 -> 0 with a wrong root) fails for us too.
    """
    differ = [_id(p) for p in _files("consistency") if _size0_convention(_load(p))]
    assert differ == ["additional/size1-is-zero-and-size2-is-not-zero"]
    assert _load(TLOG / "transparency-dev-merkle/consistency" / f"{differ[0]}.json")["wantErr"]
    cctv = [v for v in _load(TLOG / "cctv-merkle/consistency-valid.json") if v["old_size"] == 0]
    assert {(v["old_size"], v["new_size"]) for v in cctv} == {(0, 0), (0, 1)}
    for v in cctv:
        verify_consistency(0, v["new_size"], [], _b64(v["old_root"]), _b64(v["new_root"]))


@pytest.mark.parametrize("path", _files("consistency"), ids=_id)
def test_transparency_dev_consistency(path: Path) -> None:
    v = _load(path)
    args = (
        v["size1"],
        v["size2"],
        [_b64(p) for p in v["proof"] or []],
        _b64(v["root1"]),
        _b64(v["root2"]),
    )
    if v["wantErr"] and not _size0_convention(v):
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_cctv_tree_roots() -> None:
    cases = _load(TLOG / "cctv-merkle" / "merkle_tree.json")
    leaves = []
    for case in cases:
        data = case["leaf_data"].encode()
        assert leaf_hash(data) == _b64(case["leaf_hash"])
        leaves.append(leaf_hash(data))
        assert root(leaves) == _b64(case["root_hash"])


@pytest.mark.parametrize("valid", [True, False], ids=["valid", "invalid"])
def test_cctv_inclusion(valid: bool) -> None:
    name = "inclusion-valid.json" if valid else "inclusion-invalid.json"
    for v in _load(TLOG / "cctv-merkle" / name):
        args = (
            _b64(v["leaf_hash"]),
            v["leaf_index"],
            v["tree_size"],
            [_b64(p) for p in v["inclusion_path"]],
            _b64(v["root_hash"]),
        )
        if valid:
            verify_inclusion(*args)
        else:
            with pytest.raises(ProofError):
                verify_inclusion(*args)


@pytest.mark.parametrize("valid", [True, False], ids=["valid", "invalid"])
def test_cctv_consistency(valid: bool) -> None:
    name = "consistency-valid.json" if valid else "consistency-invalid.json"
    for v in _load(TLOG / "cctv-merkle" / name):
        args = (
            v["old_size"],
            v["new_size"],
            [_b64(p) for p in v["consistency_path"]],
            _b64(v["old_root"]),
            _b64(v["new_root"]),
        )
        if valid:
            verify_consistency(*args)
        else:
            with pytest.raises(ProofError):
                verify_consistency(*args)


def test_ct_classic_tree_generates_every_proof() -> None:
    v = _load(TLOG / "ct-classic-8leaf.json")
    leaves = [leaf_hash(bytes.fromhex(x)) for x in v["leaves_hex"]]
    assert root([]) == EMPTY_ROOT
    for size, expected in v["root_by_tree_size"].items():
        assert root(leaves[: int(size)]).hex() == expected
    for case in v["inclusion"]:
        proof = inclusion_proof(leaves, case["leaf_index"], case["tree_size"])
        assert [p.hex() for p in proof] == case["proof"]
        verify_inclusion(
            leaves[case["leaf_index"]],
            case["leaf_index"],
            case["tree_size"],
            proof,
            root(leaves[: case["tree_size"]]),
        )
    for case in v["consistency"]:
        size1, size2 = case["size1"], case["size2"]
        proof = consistency_proof(leaves, size1, size2)
        assert [p.hex() for p in proof] == case["proof"]
        verify_consistency(size1, size2, proof, root(leaves[:size1]), root(leaves[:size2]))


def test_real_ct_log_inclusion() -> None:
    v = _load(TLOG / "ct-python-merkle_test-inclusion.json")
    verify_inclusion(
        bytes.fromhex(v["leaf_hash"]),
        v["leaf_index"],
        v["tree_size"],
        [bytes.fromhex(p) for p in v["audit_path"]],
        bytes.fromhex(v["root_hash"]),
    )


def test_argon2020_inclusion_and_consistency() -> None:
    base = TLOG / "ct-argon2020"
    sth, entries = _load(base / "sth.json"), _load(base / "entries.json")
    proof, consistency = _load(base / "proof.json"), _load(base / "consistency.json")
    leaf = leaf_hash(_b64(entries["entries"][0]["leaf_input"]))
    verify_inclusion(
        leaf,
        10000,
        sth["tree_size"],
        [_b64(p) for p in proof["audit_path"]],
        _b64(sth["sha256_root_hash"]),
    )
    verify_consistency(
        3654490,
        sth["tree_size"],
        [_b64(p) for p in consistency["consistency"]],
        _b64("AuIZ5V6sDUj1vn3Y1K85oOaQ7y+FJJKtyRTl1edIKBQ="),
        _b64(sth["sha256_root_hash"]),
    )
