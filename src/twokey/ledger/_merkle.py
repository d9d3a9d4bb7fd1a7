"""RFC 6962 / RFC 9162 Merkle trees: hashing, proofs and their verification.

Hashes follow RFC 6962 §2.1: ``leaf = SHA-256(0x00 || data)``, ``node = SHA-256(0x01 || l || r)``,
the empty tree's root is ``SHA-256("")``. Proof generation follows RFC 9162 §2.1.3.1 (PATH) and
§2.1.4.1 (SUBPROOF); verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 step by step.

Consistency from size 0 (see docs/ledger.md): the empty tree is a prefix of every tree, so a
proof from size 0 is valid exactly when it is empty and the old root is ``SHA-256("")`` (the C2SP
tlog-witness / CCTV convention; transparency-dev rejects every proof from size 0).
"""

from __future__ import annotations

__all__ = [
    "EMPTY_ROOT",
    "HashRange",
    "ProofError",
    "consistency_path",
    "consistency_proof",
    "inclusion_path",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

import hashlib
from collections.abc import Callable, Sequence

from twokey.errors import VerificationError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
HashRange = Callable[[int, int], bytes]  # MTH(D[a:b])


class ProofError(VerificationError):
    """An inclusion or consistency proof does not verify, or its arguments are impossible."""


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 §2.1: ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 §2.1: ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than ``n`` (RFC 6962 §2.1's k), for n >= 2."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over the given leaf hashes (RFC 6962 §2.1)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:  # pairwise; an odd node is carried up unchanged, as §2.1 implies
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def _range_hasher(leaf_hashes: Sequence[bytes]) -> HashRange:
    return lambda a, b: root(leaf_hashes[a:b])


def inclusion_path(index: int, size: int, hash_range: HashRange) -> list[bytes]:
    """PATH(index, D[size]) (RFC 9162 §2.1.3.1) using ``hash_range(a, b) = MTH(D[a:b])``."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    proof: list[bytes] = []
    a, b = 0, size
    while b - a > 1:  # iterative PATH: collect siblings top-down, then reverse
        k = split_point(b - a)
        if index < a + k:
            proof.append(hash_range(a + k, b))
            b = a + k
        else:
            proof.append(hash_range(a, a + k))
            a = a + k
    proof.reverse()
    return proof


def consistency_path(size1: int, size2: int, hash_range: HashRange) -> list[bytes]:
    """PROOF(size1, D[size2]) (RFC 9162 §2.1.4.1); empty for size1 == 0 or size1 == size2."""
    if not 0 <= size1 <= size2:
        raise ProofError(f"no consistency proof from size {size1} to size {size2}")
    if size1 in (0, size2):
        return []
    proof: list[bytes] = []
    m, a, b, start = size1, 0, size2, True
    while m != b - a:  # iterative SUBPROOF(m, D[a:b], start)
        k = split_point(b - a)
        if m <= k:
            proof.append(hash_range(a + k, b))
            b = a + k
        else:
            proof.append(hash_range(a, a + k))
            m, a, start = m - k, a + k, False
    if not start:
        proof.append(hash_range(a, b))
    proof.reverse()
    return proof


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """The inclusion proof of leaf ``index`` in the tree of the first ``size`` leaves."""
    if size > len(leaf_hashes):
        raise ProofError(f"tree size {size} exceeds the {len(leaf_hashes)} leaves given")
    return inclusion_path(index, size, _range_hasher(leaf_hashes))


def consistency_proof(leaf_hashes: Sequence[bytes], size1: int, size2: int) -> list[bytes]:
    """The consistency proof between the trees of the first ``size1`` and ``size2`` leaves."""
    if size2 > len(leaf_hashes):
        raise ProofError(f"tree size {size2} exceeds the {len(leaf_hashes)} leaves given")
    return consistency_path(size1, size2, _range_hasher(leaf_hashes))


def _check_hashes(*hashes: bytes) -> None:
    for value in hashes:
        if len(value) != HASH_SIZE:
            raise ProofError(f"a hash is {len(value)} bytes, not {HASH_SIZE}")


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Verify an inclusion proof (RFC 9162 §2.1.3.2). Raises :class:`ProofError`.

    Steps: (1) index < size; (2) walk fn = index, sn = size - 1 up the tree, combining each
    proof hash on the left when fn is a right child or the last node of its level, else on the
    right; (3) sn must reach 0 exactly and the result must equal ``root``.
    """
    _check_hashes(leaf_hash, root, *proof)
    if not 0 <= index < size:  # step 1
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:  # step 2
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:  # step 3
        raise ProofError("inclusion proof is too short")
    if r != root:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(  # noqa: PLR0912 - RFC 9162 §2.1.4.2 step by step, kept whole
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Verify a consistency proof (RFC 9162 §2.1.4.2). Raises :class:`ProofError`.

    Steps: (1) sizes ordered; equal sizes need an empty proof and equal roots; size1 == 0 needs
    an empty proof (our convention); (2) when size1 is a power of two its root is the implicit
    first proof hash; (3) shift fn = size1 - 1, sn = size2 - 1 past fn's low set bits;
    (4) fold the proof into fr (old root) and sr (new root); (5) sn must reach 0 and both
    roots must match.
    """
    if size1 > size2 or size1 < 0:  # step 1
        raise ProofError(f"size1 {size1} is larger than size2 {size2}")
    if size1 == 0:
        if proof or root1 != EMPTY_ROOT or (size2 == 0 and root2 != EMPTY_ROOT):
            raise ProofError("a proof from the empty tree is empty and names SHA-256('')")
        return
    if size1 == size2:
        if proof:
            raise ProofError("a proof between equal sizes must be empty")
        if root1 != root2:
            raise ProofError("equal sizes with different roots: the log forked")
        return
    _check_hashes(root1, root2, *proof)
    if not proof:
        raise ProofError("consistency proof is empty")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # step 2
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:  # step 3
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:  # step 4
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:  # step 5
        raise ProofError("consistency proof is too short")
    if fr != root1:
        raise ProofError("consistency proof does not lead to the old root")
    if sr != root2:
        raise ProofError("consistency proof does not lead to the new root")
