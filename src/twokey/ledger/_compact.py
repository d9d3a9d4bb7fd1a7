"""Perfect subtrees ("compact ranges") of an RFC 6962 tree, as the store keeps them.

A tree of ``n`` leaves is, by RFC 6962 §2.1, the right-to-left fold of the perfect subtrees
given by the binary decomposition of ``n`` (largest and leftmost first): the *frontier*. The
store keeps the hash of every complete perfect subtree, addressed ``(level, index)`` where the
subtree covers leaves ``[index << level, (index + 1) << level)``, so that any MTH(D[a:b]) that
RFC 9162 §2.1.3.1 / §2.1.4.1 asks for is a fold of O(log n) stored hashes.
"""

from __future__ import annotations

__all__ = ["Position", "fold", "frontier_positions", "grow", "range_positions"]

import hashlib
from collections.abc import Sequence

from twokey.ledger._merkle import EMPTY_ROOT

Position = tuple[int, int]  # (level, index): leaves [index << level, (index + 1) << level)

_sha256 = hashlib.sha256


def range_positions(start: int, end: int) -> list[Position]:
    """The perfect subtrees whose fold is MTH(D[start:end]), leftmost first.

    Valid for the ranges RFC 6962 recursion produces: ``start`` is a multiple of the largest
    power of two below ``end - start`` (every split point k of §2.1 keeps this true).
    """
    out: list[Position] = []
    while start < end:
        level = (end - start).bit_length() - 1
        while start & ((1 << level) - 1):  # never taken for RFC-aligned ranges; kept total
            level -= 1
        out.append((level, start >> level))
        start += 1 << level
    return out


def frontier_positions(size: int) -> list[Position]:
    """The perfect subtrees that make up a tree of ``size`` leaves, leftmost first."""
    return range_positions(0, size)


def fold(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from its perfect subtrees, leftmost first (RFC 6962 §2.1 right fold)."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for node in reversed(hashes[:-1]):
        result = _sha256(b"\x01" + node + result).digest()
    return result


def grow(
    size: int, frontier: Sequence[bytes], leaves: Sequence[bytes]
) -> tuple[list[tuple[int, int, bytes]], list[bytes]]:
    """Append ``leaves`` to a tree of ``size`` whose frontier is ``frontier``.

    Returns the interior nodes completed on the way, as ``(level, index, hash)`` with level
    >= 1, and the new frontier. Each leaf that is a right child completes its parent, and so
    on up (the binary-counter carry of RFC 9162 §2.1's incremental construction).
    """
    if len(frontier) != size.bit_count():
        raise ValueError(f"a frontier of {len(frontier)} hashes cannot hold {size} leaves")
    stack = list(frontier)
    nodes: list[tuple[int, int, bytes]] = []
    for offset, leaf in enumerate(leaves):
        current, index, level = leaf, size + offset, 0
        while index & 1:
            current = _sha256(b"\x01" + stack.pop() + current).digest()
            level, index = level + 1, index >> 1
            nodes.append((level, index, current))
        stack.append(current)
    return nodes, stack
