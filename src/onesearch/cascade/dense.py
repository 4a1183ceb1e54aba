"""Dense recall: inner-product search over unit item vectors with FAISS.

Contract: ``DenseIndex(vectors)`` holds one unit row per document (row i = document i);
``search(query_vectors, k)`` returns (scores, rows) per query, best first, exact (flat) search;
``similarity(query_vector, rows)`` scores given documents, for ranking features.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DenseIndex"]


class DenseIndex:
    """Exact cosine search (vectors are unit length, so inner product = cosine)."""

    def __init__(self, vectors: np.ndarray) -> None:
        import faiss

        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._index = faiss.IndexFlatIP(self.vectors.shape[1])
        self._index.add(self.vectors)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (scores, rows) for each query row."""
        k = min(k, len(self.vectors))
        scores, rows = self._index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return scores, rows

    def similarity(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Cosine of ``query`` with the documents ``rows``."""
        return self.vectors[rows] @ query
