"""``DenseTop``: the best rows of a fixed matrix by inner product with query vectors, for the plan.

Contract: built from an ``n x dim`` float matrix (row i = vector i); ``top(queries, k)`` returns
the ``B x min(k, n)`` row ids of each query's best rows, best first. A scan over tens of
thousands of rows is bound by memory traffic, so from ``EXACT_BELOW`` rows on the scan reads the
rows projected on the fewest principal axes (a multiple of 16) that hold ``VARIANCE`` of the
rows' variance when those are at most three quarters of the dimensions, each axis quantized to 4
bits and scanned with FAISS's in-register lookup tables (``PCA,PQ<axes>x4fs``: an eighth of
float32's bytes), and the ``refine`` x ``k`` best of them are re-scored exactly
(``IndexRefineFlat``): the returned rows and their order are exact up to rows the cheap scan
placed below that depth. (On Home Depot's 54,667 rows it measured about 3x cheaper than the
8-bit ``PCA,SQ8`` scan with refine 2 it replaced, finding 99.99% of the exact top 300 against
99.96%: ``benchmarks/bench_dense_scan.py``.) Smaller matrices are scanned exactly. ``like(vectors)``
scans another matrix of the same kind (a changed catalog's) with this one's trained projection
and quantizer instead of training them again.
"""

from __future__ import annotations

import faiss
import numpy as np

__all__ = ["EXACT_BELOW", "DenseTop"]

EXACT_BELOW = 4096  # rows under which the scan is exact
VARIANCE = 0.95  # share of the rows' variance the projected scan keeps


class DenseTop:
    """Approximate-then-exact top-k inner-product search over fixed rows (see module docstring)."""

    def __init__(self, vectors: np.ndarray, refine: int = 4, trained: faiss.Index | None = None) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.rows, dim = vectors.shape
        if trained is not None:
            self._empty = trained
        elif self.rows < EXACT_BELOW:
            self._empty = faiss.IndexFlatIP(dim)
        else:
            scan = faiss.index_factory(dim, _scan_factory(vectors), faiss.METRIC_INNER_PRODUCT)
            self._empty = faiss.IndexRefineFlat(scan)
            self._empty.k_factor = float(refine)
            self._empty.train(vectors)
        self._index = faiss.clone_index(self._empty)
        self._index.add(vectors)

    def like(self, vectors: np.ndarray) -> DenseTop:
        """A scan of ``vectors`` (the same width) reusing this one's trained projection and
        quantizer (an exact scan stays exact)."""
        return DenseTop(vectors, trained=self._empty)

    def top(self, queries: np.ndarray, k: int) -> np.ndarray:
        """Row ids ``B x min(k, n)`` of each query's best rows, best first."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        return self._index.search(queries, min(k, self.rows))[1]


def _scan_factory(vectors: np.ndarray) -> str:
    """The FAISS factory string of the cheap scan over ``vectors`` (see module docstring)."""
    centred = vectors - vectors.mean(axis=0)
    spectrum = np.linalg.eigvalsh(centred.T @ centred)[::-1]
    axes = -(-(int(np.searchsorted(np.cumsum(spectrum) / spectrum.sum(), VARIANCE)) + 1) // 16) * 16  # FAISS's SIMD scan wants whole 16s
    return f"PCA{axes},PQ{axes}x4fs" if 4 * axes <= 3 * vectors.shape[1] else f"PQ{vectors.shape[1]}x4fs"
