"""``SharedCodewords``: one code depth's node vectors as the parent's vector plus one of a few
shared codewords, so the beam scores that depth's children without reading their vectors.

Contract: ``SharedCodewords.find(vectors, parent_vectors, parent_of, code)`` takes a depth's
node vectors (``n x dim``), the previous depth's (``m x dim``), each node's parent and its code
value at this depth (``n`` each) and returns the factorization — the increment over the parent
as a function of the code value — or None when some node's increment differs from its code
value's by more than ``TOLERANCE`` in a coordinate (the stored vectors are rounded, so shared
increments agree only to that). That holds where the codebook's increment is a global codeword: a residual k-means level
with one codebook, or an OPQ position (a rotated sub-codeword); a balanced last level (local
codebooks) or the items' own vectors are not factorized. ``dense(state, parents, owners, nodes)``
returns ``<state, vectors[node]>`` for nodes whose parent is ``parents[owners]``, as the parents'
inner products plus a table lookup (asymmetric distance computation): it reads one row per
parent instead of one per child.
"""

from __future__ import annotations

import numpy as np
import torch

from onesearch.model.anchored import rowwise_dense

__all__ = ["TOLERANCE", "SharedCodewords"]

TOLERANCE = 2e-3  # largest coordinate difference between a node's increment and its code value's (float16 storage rounds each vector by up to 5e-4)
PROBE = 1024  # rows checked first: a depth whose vectors do not factorize is refuted there


class SharedCodewords:
    """A depth's node vectors = parent vector + shared codeword (see module docstring)."""

    def __init__(self, parent_vectors: np.ndarray, table: np.ndarray, index: np.ndarray) -> None:
        self.parent_vectors = parent_vectors
        self.table = torch.from_numpy(np.ascontiguousarray(table, dtype=np.float32))
        self.index = index

    @classmethod
    def find(cls, vectors: np.ndarray, parent_vectors: np.ndarray, parent_of: np.ndarray, code: np.ndarray) -> SharedCodewords | None:
        """The factorization of ``vectors`` over ``parent_vectors``, or None (see module docstring)."""
        values, first, index = np.unique(code, return_index=True, return_inverse=True)
        if 4 * len(values) > len(vectors):
            return None
        table = vectors[first] - parent_vectors[parent_of[first]]
        for rows in (slice(0, PROBE), slice(None)):  # a probe of the first rows refutes most depths without touching the rest
            if np.abs(vectors[rows] - parent_vectors[parent_of[rows]] - table[index[rows]]).max(initial=0.0) > TOLERANCE:
                return None
        return cls(parent_vectors, table, index)

    def dense(self, state: torch.Tensor, parents: np.ndarray, owners: np.ndarray, nodes: np.ndarray, request: np.ndarray | None = None) -> torch.Tensor:
        """Inner products with the vectors of ``nodes``, node i a child of ``parents[owners[i]]``: with
        one ``state`` (``dim``), or, given ``request`` (sorted, one per parent), with row
        ``request[p]`` of ``state`` (``B x dim``) for the children of parent p."""
        rows = torch.from_numpy(np.take(self.parent_vectors, parents, axis=0))
        child = torch.from_numpy(self.index[nodes])
        if request is None:
            return (rows @ state)[torch.from_numpy(owners)] + (self.table @ state)[child]
        parent = rowwise_dense(rows, state, request)
        return parent[torch.from_numpy(owners)] + (self.table @ state.T)[child, torch.from_numpy(request[owners])]
