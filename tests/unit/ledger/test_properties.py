"""Merkle properties for random sizes: generated proofs verify, mutated proofs fail."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from twokey.ledger import (
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [leaf_hash(str(i).encode()) for i in range(300)]


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))),
    st.integers(0, 10_000),
)
def test_inclusion(size_index: tuple[int, int], mutation: int) -> None:
    size, index = size_index
    proof = inclusion_proof(LEAVES, index, size)
    head = root(LEAVES[:size])
    verify_inclusion(LEAVES[index], index, size, proof, head)
    if proof:
        bad = list(proof)
        spot = mutation % len(bad)
        bad[spot] = bytes([bad[spot][0] ^ 1]) + bad[spot][1:]
        try:
            verify_inclusion(LEAVES[index], index, size, bad, head)
        except ProofError:
            return
        raise AssertionError("a mutated inclusion proof verified")


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n))),
    st.integers(0, 10_000),
)
def test_consistency(sizes: tuple[int, int], mutation: int) -> None:
    size1, size2 = sizes
    proof = consistency_proof(LEAVES, size1, size2)
    root1, root2 = root(LEAVES[:size1]), root(LEAVES[:size2])
    verify_consistency(size1, size2, proof, root1, root2)
    if proof:
        bad = list(proof)
        spot = mutation % len(bad)
        bad[spot] = bytes([bad[spot][0] ^ 1]) + bad[spot][1:]
        try:
            verify_consistency(size1, size2, bad, root1, root2)
        except ProofError:
            return
        raise AssertionError("a mutated consistency proof verified")
