"""``CodeTree``: node paths, children and pooling agree with a plain prefix dictionary."""

from __future__ import annotations

import numpy as np
import pytest

from onesearch.decoding.tree import CodeTree


@pytest.fixture
def codes() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.unique(rng.integers(0, 4, size=(60, 3)), axis=0)[rng.permutation(40)[:40] % 40]


def test_paths_number_each_distinct_prefix_once(codes):
    tree = CodeTree(codes)
    for depth in range(3):
        prefixes = {tuple(c[: depth + 1]) for c in codes.tolist()}
        assert tree.counts[depth] == len(prefixes)
        node_of = {}
        for row, code in enumerate(codes.tolist()):
            assert node_of.setdefault(tuple(code[: depth + 1]), tree.paths[row, depth]) == tree.paths[row, depth]
    assert sorted(tree.item_of_leaf[tree.paths[:, -1]].tolist()) == list(range(len(codes)))


def test_children_are_exactly_the_nodes_whose_parent_was_given(codes):
    tree = CodeTree(codes)
    owners, children = tree.children(np.array([0]), 0)
    assert set(children.tolist()) == set(range(tree.counts[0])) and set(owners.tolist()) == {0}
    parents = np.array([1, 0])
    owners, children = tree.children(parents, 1)
    for owner, child in zip(owners, children):
        rows = np.flatnonzero(tree.paths[:, 1] == child)
        assert set(tree.paths[rows, 0].tolist()) == {parents[owner]}
    expected = {int(n) for p in parents for n in np.unique(tree.paths[tree.paths[:, 0] == p, 1])}
    assert set(children.tolist()) == expected


def test_pooling_takes_the_max_over_each_nodes_rows(codes):
    tree = CodeTree(codes)
    values = np.arange(len(codes), dtype=np.float32)[:, None]
    rows = np.array([3, 7, 11, 20])
    nodes, pooled = tree.pool_max(rows, values[rows], 0)
    assert list(nodes) == sorted(set(tree.paths[rows, 0].tolist()))
    for node, value in zip(nodes, pooled[:, 0]):
        assert value == max(values[r, 0] for r in rows if tree.paths[r, 0] == node)
    empty_nodes, empty = tree.pool_max(np.zeros(0, dtype=np.int64), np.zeros((0, 1), dtype=np.float32), 1)
    assert len(empty_nodes) == 0 and empty.shape == (0, 1)
    full = tree.pool_all(values, 1)
    for node in range(tree.counts[1]):
        assert full[node, 0] == values[tree.paths[:, 1] == node, 0].max()


def test_shared_full_codes_are_refused():
    with pytest.raises(ValueError):
        CodeTree(np.array([[0, 1], [0, 1]]))


def test_members_are_the_rows_through_a_node(codes):
    tree = CodeTree(codes)
    for depth in range(3):
        for node in range(tree.counts[depth]):
            assert sorted(tree.members(node, depth).tolist()) == np.flatnonzero(tree.paths[:, depth] == node).tolist()


def test_nodes_are_numbered_in_sorted_prefix_order_whatever_the_code_values():
    codes = np.array([[5, -2, 900], [5, -2, 3], [-1, 7, 0], [5, 40, 1]])
    tree = CodeTree(codes)
    for depth in range(3):
        prefixes = sorted({tuple(c[: depth + 1]) for c in codes.tolist()})
        assert [prefixes.index(tuple(c[: depth + 1])) for c in codes.tolist()] == tree.paths[:, depth].tolist()
