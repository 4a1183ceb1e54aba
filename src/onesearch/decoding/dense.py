"""``DenseTop``: the best rows of a fixed matrix by inner product with query vectors, for the plan.

Contract: built from an ``n x dim`` float matrix (row i = vector i); ``top(queries, k)`` returns
the ``B x min(k, n)`` row ids of each query's best rows, best first. The scan reads 8-bit
scalar-quantized rows (FAISS ``IndexScalarQuantizer``, a quarter of float32's memory traffic,
which is what a batch-1 scan over tens of thousands of rows is bound by) and the
``refine`` x ``k`` best of them are re-scored exactly (``IndexRefineFlat``), so the returned
rows and their order are the exact ones up to rows the 8-bit scan placed below that depth.
``one_thread()`` scopes batch-1 work to one PyTorch and one FAISS thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import faiss
import numpy as np

__all__ = ["DenseTop", "one_thread"]


class DenseTop:
    """Approximate-then-exact top-k inner-product search over fixed rows (see module docstring)."""

    def __init__(self, vectors: np.ndarray, refine: int = 2) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.rows = len(vectors)
        self._index = faiss.IndexRefineFlat(faiss.IndexScalarQuantizer(vectors.shape[1], faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT))
        self._index.train(vectors)
        self._index.add(vectors)
        self._index.k_factor = float(refine)

    def top(self, queries: np.ndarray, k: int) -> np.ndarray:
        """Row ids ``B x min(k, n)`` of each query's best rows, best first."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        return self._index.search(queries, min(k, self.rows))[1]


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the block with one PyTorch and one FAISS thread, restoring both counts after: for
    batch-1 work too small to split (FAISS splits a search by query, and PyTorch's threads
    cost more than they save on the beam's small products; waiting threads burn CPU too)."""
    import torch

    torch_threads, faiss_threads = torch.get_num_threads(), faiss.omp_get_max_threads()
    torch.set_num_threads(1)
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(torch_threads)
        faiss.omp_set_num_threads(faiss_threads)
