"""Postings lists: which rows hold which keys (terms, word pairs), for vectorized coverage counts.

Contract: ``Postings.build(keys_per_row)`` indexes row i's distinct keys (any hashables);
``count(keys, rows)`` gives, for each of ``rows``, how many of the distinct ``keys`` it holds
(float32), equal to ``len(set(keys) & keys_per_row[r])`` but without a Python loop over rows.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence

import numpy as np

__all__ = ["Postings"]


class Postings:
    """Key -> rows holding it, stored as one CSR array (rows sorted within each key)."""

    def __init__(self, key_index: dict[Hashable, int], starts: np.ndarray, rows: np.ndarray, size: int) -> None:
        self.key_index, self.starts, self.rows, self.size = key_index, starts, rows, size

    @classmethod
    def build(cls, keys_per_row: Sequence[Iterable[Hashable]]) -> Postings:
        """The postings of ``keys_per_row`` (row i = entry i)."""
        key_index: dict[Hashable, int] = {}
        keys, rows = [], []
        for row, row_keys in enumerate(keys_per_row):
            for key in set(row_keys):
                keys.append(key_index.setdefault(key, len(key_index)))
                rows.append(row)
        key_ids, row_ids = np.asarray(keys, dtype=np.int64), np.asarray(rows, dtype=np.int64)
        order = np.lexsort((row_ids, key_ids))
        starts = np.searchsorted(key_ids[order], np.arange(len(key_index) + 1))
        return cls(key_index, starts, row_ids[order], len(keys_per_row))

    def count(self, keys: Iterable[Hashable], rows: np.ndarray) -> np.ndarray:
        """How many of the distinct ``keys`` each of ``rows`` holds."""
        counts = np.zeros(self.size, dtype=np.float32)
        for key in set(keys):
            index = self.key_index.get(key)
            if index is not None:
                counts[self.rows[self.starts[index] : self.starts[index + 1]]] += 1.0
        return counts[np.asarray(rows, dtype=np.int64)]
