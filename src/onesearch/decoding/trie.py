"""``SidTrie``: the prefix trie of every valid full code, with vectorized next-value masks.

Contract: built from an ``n x L`` integer matrix of distinct full codes (position p takes values
in ``[0, sizes[p])``). Nodes at depth d are the distinct prefixes of length d (the root is node 0
at depth 0). ``mask(nodes, depth)`` gives, for a batch of depth-``depth`` nodes, a boolean
``batch x sizes[depth]`` matrix of the values that continue to a valid code; ``advance(nodes,
depth, values)`` returns the child nodes (``-1`` for an invalid step); ``code_of`` maps a leaf
back to its code. No loops over the batch: each depth is a sorted array of (parent, value) keys.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["SidTrie"]


class SidTrie:
    """All valid codes as a trie stored level by level."""

    def __init__(self, codes: np.ndarray, sizes: Sequence[int]) -> None:
        codes = np.asarray(codes, dtype=np.int64)
        if codes.ndim != 2 or codes.shape[1] != len(sizes):
            raise ValueError("codes must be an n x len(sizes) matrix")
        if len(codes) and ((codes < 0).any() or (codes >= np.asarray(sizes)).any()):
            raise ValueError("a code value is outside its position's size")
        self.sizes = tuple(int(s) for s in sizes)
        self.depth = len(self.sizes)
        codes = np.unique(codes, axis=0)
        self._keys: list[np.ndarray] = []
        self._leaf_codes = codes
        parents = np.zeros(len(codes), dtype=np.int64)
        for d in range(self.depth):
            keys = parents * self.sizes[d] + codes[:, d]
            unique_keys, child = np.unique(keys, return_inverse=True)
            self._keys.append(unique_keys)
            parents = child.reshape(-1)
        self._leaf_of_node = np.full(len(self._keys[-1]) if self.depth else 0, -1, dtype=np.int64)
        self._leaf_of_node[parents] = np.arange(len(codes))

    def __len__(self) -> int:
        """Number of valid full codes."""
        return len(self._leaf_codes)

    def mask(self, nodes: np.ndarray, depth: int) -> np.ndarray:
        """Allowed next values for each node at ``depth``: ``len(nodes) x sizes[depth]`` booleans."""
        nodes = np.asarray(nodes, dtype=np.int64)
        size = self.sizes[depth]
        keys = self._keys[depth]
        start = np.searchsorted(keys, nodes * size, side="left")
        end = np.searchsorted(keys, (nodes + 1) * size, side="left")
        counts = end - start
        rows = np.repeat(np.arange(len(nodes)), counts)
        positions = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(start, counts)
        out = np.zeros((len(nodes), size), dtype=bool)
        out[rows, keys[positions] - nodes[rows] * size] = True
        return out

    def advance(self, nodes: np.ndarray, depth: int, values: np.ndarray) -> np.ndarray:
        """Child node of each (node, value) at ``depth``; -1 where the step leaves the trie."""
        keys = np.asarray(nodes, dtype=np.int64) * self.sizes[depth] + np.asarray(values, dtype=np.int64)
        found = np.searchsorted(self._keys[depth], keys)
        found = np.minimum(found, len(self._keys[depth]) - 1)
        return np.where(self._keys[depth][found] == keys, found, -1)

    def code_of(self, leaves: np.ndarray) -> np.ndarray:
        """Full codes of leaf nodes (nodes at depth ``len(sizes)``)."""
        return self._leaf_codes[self._leaf_of_node[np.asarray(leaves, dtype=np.int64)]]
