"""OPQ sub-codes of the last residual: a learned rotation, then product quantization.

Contract: ``fit_opq(residuals, subcodes, bits, seed)`` returns an ``Opq`` whose ``encode(r)``
gives ``subcodes`` integers in ``[0, 2**bits)`` per row and ``decode`` maps them back to the
residual space. The input dimension must divide by ``subcodes``. As in OneSearch, queries and
items may be fitted together by stacking their residuals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Opq", "fit_opq"]

_ROTATION_ITERATIONS = 12
_PQ_ITERATIONS = 4


@dataclass
class Opq:
    """A fitted rotation (``d x d``) and product quantizer centroids (``subcodes x 2**bits x d/subcodes``)."""

    rotation: np.ndarray
    centroids: np.ndarray

    @property
    def subcodes(self) -> int:
        return int(self.centroids.shape[0])

    @property
    def size(self) -> int:
        """Values per sub-code (2**bits)."""
        return int(self.centroids.shape[1])

    def encode(self, residuals: np.ndarray) -> np.ndarray:
        """``n x subcodes`` codes: nearest sub-centroid of each rotated sub-vector."""
        rotated = np.asarray(residuals, dtype=np.float32) @ self.rotation.T
        parts = np.split(rotated, self.subcodes, axis=1)
        codes = [_nearest(part, centroids) for part, centroids in zip(parts, self.centroids)]
        return np.stack(codes, axis=1)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Approximate residuals of ``codes`` (rotated back)."""
        rotated = np.concatenate([self.centroids[m][codes[:, m]] for m in range(self.subcodes)], axis=1)
        return rotated @ self.rotation


def fit_opq(residuals: np.ndarray, subcodes: int = 2, bits: int = 8, seed: int = 0) -> Opq:
    """Fit OPQ (FAISS ``OPQMatrix`` + ``ProductQuantizer``) on ``residuals``."""
    import faiss

    x = np.ascontiguousarray(residuals, dtype=np.float32)
    d = x.shape[1]
    if d % subcodes:
        raise ValueError(f"dimension {d} does not divide into {subcodes} OPQ sub-codes")
    if len(x) < max(d, 2**bits):
        raise ValueError(f"OPQ needs at least {max(d, 2**bits):,} training vectors (the dimension and 2**bits), got {len(x):,}")
    matrix = faiss.OPQMatrix(d, subcodes)
    matrix.verbose = False
    matrix.niter = _ROTATION_ITERATIONS
    matrix.niter_pq = _PQ_ITERATIONS
    matrix.pq = faiss.ProductQuantizer(d, subcodes, bits)
    matrix.pq.cp.seed = seed
    matrix.pq.cp.min_points_per_centroid = 1
    matrix.train(x)
    rotation = faiss.vector_to_array(matrix.A).reshape(d, d).astype(np.float32)
    pq = faiss.ProductQuantizer(d, subcodes, bits)
    pq.cp.seed = seed
    pq.cp.min_points_per_centroid = 1
    pq.train(np.ascontiguousarray(x @ rotation.T))
    centroids = faiss.vector_to_array(pq.centroids).reshape(subcodes, 2**bits, d // subcodes).astype(np.float32)
    return Opq(rotation, centroids)


def _nearest(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    distance = (centroids * centroids).sum(axis=1)[None, :] - 2.0 * x @ centroids.T
    return distance.argmin(axis=1).astype(np.int64)
