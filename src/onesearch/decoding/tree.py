"""``CodeTree``: the trie of a catalog's full codes as node ids per depth, for node-level scoring.

Contract: built from an ``n x L`` matrix of distinct full codes, row i = catalog row i. Depth d's
nodes are the distinct code prefixes of length d + 1, numbered 0 .. ``counts[d]`` - 1 in sorted
prefix order; ``paths[i, d]`` is row i's node at depth d, so the last depth's nodes are the
items themselves (``item_of_leaf`` maps back). ``children(nodes, depth)`` lists the depth-
``depth`` children of depth-``depth - 1`` nodes (of the root when ``depth`` is 0) as (index into
``nodes``, child node) pairs; ``pool_max(rows, values, depth)`` max-pools row values up to their
depth-``depth`` nodes (``pool_by``: the same over any integer keys, e.g. (request, node) pairs of
a batch; ``pool_sorted`` when the keys are already sorted). Everything is vectorized (no loop over items).
"""

from __future__ import annotations

import numpy as np

__all__ = ["CodeTree", "pool_by", "pool_sorted"]


class CodeTree:
    """Node ids of every prefix of every full code, with parent -> children lists."""

    def __init__(self, codes: np.ndarray) -> None:
        codes = np.asarray(codes, dtype=np.int64)
        if codes.ndim != 2 or not len(codes):
            raise ValueError("codes must be a non-empty n x L matrix")
        self.depth = codes.shape[1]
        self.paths = np.zeros(codes.shape, dtype=np.int64)
        parent_of: list[np.ndarray] = []
        previous = np.zeros(len(codes), dtype=np.int64)
        low, radix = int(codes.min()), int(codes.max() - codes.min()) + 1
        for d in range(self.depth):
            # (parent, code) as one integer in the same sorted order: a 1-d sort, several times faster than
            # np.unique(axis=0), which sorts rows as opaque records and holds the GIL throughout
            unique, inverse = np.unique(previous * radix + (codes[:, d] - low), return_inverse=True)
            self.paths[:, d] = inverse.reshape(-1)
            parent_of.append(unique // radix)
            previous = self.paths[:, d]
        if len(np.unique(self.paths[:, -1])) != len(codes):
            raise ValueError("two rows share one full code")
        self.counts = tuple(len(p) for p in parent_of)
        self.parent_of = parent_of
        self._starts = [np.searchsorted(p, np.arange((self.counts[d - 1] if d else 1) + 1)) for d, p in enumerate(parent_of)]
        self._member_order = [np.argsort(self.paths[:, d], kind="stable") for d in range(self.depth)]
        self._member_starts = [np.searchsorted(self.paths[order, d], np.arange(self.counts[d] + 1)) for d, order in enumerate(self._member_order)]
        self.sizes = [np.diff(starts) for starts in self._member_starts]  # per depth, the items under each node
        self.item_of_leaf = np.empty(len(codes), dtype=np.int64)
        self.item_of_leaf[self.paths[:, -1]] = np.arange(len(codes))

    def children(self, nodes: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
        """(owner index into ``nodes``, child node id) of every child at ``depth``."""
        nodes = np.asarray(nodes, dtype=np.int64)
        starts, ends = self._starts[depth][nodes], self._starts[depth][nodes + 1]
        counts = ends - starts
        owners = np.repeat(np.arange(len(nodes)), counts)
        children = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(starts, counts)
        return owners, children

    def members(self, node: int, depth: int) -> np.ndarray:
        """Rows whose code passes through depth-``depth`` node ``node``."""
        starts = self._member_starts[depth]
        return self._member_order[depth][starts[node] : starts[node + 1]]

    def pool_max(self, rows: np.ndarray, values: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
        """(sorted distinct depth-``depth`` nodes of ``rows``, column-wise max of ``values`` per node)."""
        return pool_by(self.paths[np.asarray(rows, dtype=np.int64), depth], values)

    def pool_all(self, values: np.ndarray, depth: int) -> np.ndarray:
        """Column-wise max of every row's ``values`` per depth-``depth`` node (``counts[depth] x c``)."""
        return _segment_max(values, self._member_order[depth], self._member_starts[depth][:-1])


def pool_by(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct ``keys``, column-wise max of the ``values`` rows of each key)."""
    order = np.argsort(keys, kind="stable")
    return pool_sorted(keys[order], np.asarray(values, dtype=np.float32)[order])


def pool_sorted(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pool_by`` of keys already sorted (``values``: float32 rows in the same order), without
    the sort or a reordered copy of the values."""
    if not len(keys):
        return keys, np.zeros((0, values.shape[1]), dtype=np.float32)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return keys[starts], np.maximum.reduceat(values, starts, axis=0)


def _segment_max(values: np.ndarray, order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Column-wise max of ``values[order]`` over the consecutive segments beginning at ``starts``
    (each non-empty): sort + ``reduceat``, several times faster than ``np.maximum.at``."""
    return np.maximum.reduceat(np.asarray(values, dtype=np.float32)[order], starts, axis=0)
