"""Residual k-means: each level clusters what the previous levels left unexplained.

Contract: ``fit_residual_kmeans(x, sizes, balanced_last, seed)`` returns ``ResidualKMeans``
whose ``encode(x)`` gives one code per level and the final residual. Level l's codes are global
indices in ``[0, sizes[l])``, except a *balanced* last level: there every parent (the prefix of
the levels above) has its own small codebook fitted on its members and codes are **local**
indices in ``[0, sizes[-1])`` within that parent, assigned under an equal-capacity constraint
during fitting so siblings spread over the codes. Encoding new vectors picks the nearest centroid
per level (no capacity, no refit). Fitting is seeded and deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["ResidualKMeans", "balanced_assign", "fit_residual_kmeans", "kmeans"]

_ITERATIONS = 20


def kmeans(x: np.ndarray, k: int, seed: int) -> np.ndarray:
    """``min(k, len(x))`` centroids of ``x`` (FAISS k-means, seeded)."""
    import faiss

    k = min(k, len(x))
    if k == len(x):
        return x.copy()
    model = faiss.Kmeans(x.shape[1], k, niter=_ITERATIONS, seed=seed, verbose=False, max_points_per_centroid=1024)
    model.cp.min_points_per_centroid = 1
    model.train(np.ascontiguousarray(x, dtype=np.float32))
    return np.asarray(model.centroids, dtype=np.float32)


def nearest(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid (L2) of each row."""
    import faiss

    index = faiss.IndexFlatL2(centroids.shape[1])
    index.add(np.ascontiguousarray(centroids, dtype=np.float32))
    return index.search(np.ascontiguousarray(x, dtype=np.float32), 1)[1][:, 0].astype(np.int64)


def balanced_assign(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Nearest-centroid assignment with every centroid holding at most ceil(n / k) rows: the
    closest (row, centroid) pairs are taken first, greedily."""
    n, k = len(x), len(centroids)
    capacity = -(-n // k)
    distance = (x * x).sum(axis=1)[:, None] - 2.0 * x @ centroids.T + (centroids * centroids).sum(axis=1)[None, :]
    order = np.argsort(distance, axis=None, kind="stable")
    codes = np.full(n, -1, dtype=np.int64)
    load = np.zeros(k, dtype=np.int64)
    assigned = 0
    for flat in order:
        row, centroid = divmod(int(flat), k)
        if codes[row] < 0 and load[centroid] < capacity:
            codes[row] = centroid
            load[centroid] += 1
            assigned += 1
            if assigned == n:
                break
    return codes


@dataclass
class ResidualKMeans:
    """Fitted levels: global codebooks, and for a balanced last level one codebook per parent."""

    sizes: tuple[int, ...]
    codebooks: list[np.ndarray]
    balanced_last: bool = False
    parent_codebooks: dict[tuple[int, ...], np.ndarray] = field(default_factory=dict)

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(codes ``n x levels``, final residual) for new vectors: nearest centroid per level."""
        residual = np.array(x, dtype=np.float32, copy=True)
        codes = np.zeros((len(x), len(self.sizes)), dtype=np.int64)
        for level, codebook in enumerate(self.codebooks):
            codes[:, level] = nearest(residual, codebook)
            residual -= codebook[codes[:, level]]
        if self.balanced_last:
            level = len(self.sizes) - 1
            for parent, rows in _groups(codes[:, :level]).items():
                local = self.parent_codebooks.get(parent)
                if local is None:
                    continue
                codes[rows, level] = nearest(residual[rows], local)
                residual[rows] -= local[codes[rows, level]]
        return codes, residual


def fit_residual_kmeans(x: np.ndarray, sizes: Sequence[int], balanced_last: bool = False, seed: int = 0) -> tuple[ResidualKMeans, np.ndarray, np.ndarray]:
    """Fit the levels on ``x``; returns the model, the training codes and final residuals."""
    residual = np.array(x, dtype=np.float32, copy=True)
    codes = np.zeros((len(x), len(sizes)), dtype=np.int64)
    global_levels = len(sizes) - 1 if balanced_last else len(sizes)
    codebooks = []
    for level in range(global_levels):
        codebook = kmeans(residual, sizes[level], seed + level)
        codes[:, level] = nearest(residual, codebook)
        residual -= codebook[codes[:, level]]
        codebooks.append(codebook)
    model = ResidualKMeans(tuple(sizes), codebooks, balanced_last)
    if balanced_last:
        level = len(sizes) - 1
        for parent, rows in _groups(codes[:, :level]).items():
            local = kmeans(residual[rows], sizes[level], seed + level)
            codes[rows, level] = balanced_assign(residual[rows], local)
            residual[rows] -= local[codes[rows, level]]
            model.parent_codebooks[parent] = local
    return model, codes, residual


def _groups(prefixes: np.ndarray) -> dict[tuple[int, ...], np.ndarray]:
    """Row indices per distinct prefix row."""
    if prefixes.shape[1] == 0:
        return {(): np.arange(len(prefixes))}
    unique, inverse = np.unique(prefixes, axis=0, return_inverse=True)
    order = np.argsort(inverse.reshape(-1), kind="stable")
    bounds = np.cumsum(np.bincount(inverse.reshape(-1), minlength=len(unique)))[:-1]
    return {tuple(int(v) for v in u): rows for u, rows in zip(unique, np.split(order, bounds))}
