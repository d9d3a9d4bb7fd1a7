"""The stored perfect subtrees: the incremental tree equals RFC 6962's MTH for any batching."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twokey.ledger import leaf_hash, root
from twokey.ledger._compact import fold, frontier_positions, grow, range_positions

LEAVES = [leaf_hash(b"%d" % i) for i in range(200)]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, 0, []),
        (0, 1, [(0, 0)]),
        (0, 7, [(2, 0), (1, 2), (0, 6)]),
        (8, 13, [(2, 2), (0, 12)]),
        (0, 16, [(4, 0)]),
    ],
)
def test_range_positions(start: int, end: int, expected: list[tuple[int, int]]) -> None:
    assert range_positions(start, end) == expected


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=12))
def test_growing_in_any_batches_gives_the_mth_and_every_node(batches: list[int]) -> None:
    size, frontier, nodes = 0, list[bytes](), dict[tuple[int, int], bytes]()
    for wanted in batches:
        batch = min(wanted, len(LEAVES) - size)
        new, frontier = grow(size, frontier, LEAVES[size : size + batch])
        nodes.update({(level, i): h for level, i, h in new})
        size += batch
        assert fold(frontier) == root(LEAVES[:size])
    nodes.update({(0, i): h for i, h in enumerate(LEAVES[:size])})
    for (level, index), value in nodes.items():  # each node is the MTH of the leaves it covers
        assert value == root(LEAVES[index << level : (index + 1) << level])
    assert [nodes[p] for p in frontier_positions(size)] == frontier


def test_grow_refuses_a_frontier_of_the_wrong_shape() -> None:
    with pytest.raises(ValueError, match="cannot hold"):
        grow(3, [LEAVES[0]], [LEAVES[1]])
