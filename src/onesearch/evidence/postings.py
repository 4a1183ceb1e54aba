"""Postings lists: which rows hold which keys (terms, word pairs), for vectorized coverage counts.

Contract: ``Postings.build(keys_per_row)`` indexes row i's distinct keys (any hashables);
``count(keys, rows)`` gives, for each of ``rows``, how many of the distinct ``keys`` it holds
(float32), equal to ``len(set(keys) & keys_per_row[r])`` but without a Python loop over rows.
``changed(change, tail_keys)`` answers for a changed catalog (``RowChange``): the base's counts
for the kept rows, then the tail rows' own postings.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence

import numpy as np

from onesearch.evidence.items import RowChange

__all__ = ["Postings"]


class Postings:
    """Key -> rows holding it, stored as one CSR array (rows sorted within each key)."""

    def __init__(self, key_index: dict[Hashable, int], starts: np.ndarray, rows: np.ndarray, size: int,
                 change: tuple[Postings, RowChange] | None = None) -> None:
        self.key_index, self.starts, self.rows, self.size = key_index, starts, rows, size
        self._base = change  # (base postings, change): this object holds the tail rows' postings

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

    def changed(self, change: RowChange, tail_keys: Sequence[Iterable[Hashable]]) -> Postings:
        """These (base) postings over the catalog changed by ``change``; ``tail_keys`` per tail row."""
        if self._base is not None:
            raise ValueError("derive changed postings from their base")
        tail = Postings.build(tail_keys)
        return Postings(tail.key_index, tail.starts, tail.rows, tail.size, (self, change))

    def count(self, keys: Iterable[Hashable], rows: np.ndarray) -> np.ndarray:
        """How many of the distinct ``keys`` each of ``rows`` holds."""
        return self.counts(set(keys))[np.asarray(rows, dtype=np.int64)]

    def counts(self, keys: set[Hashable]) -> np.ndarray:
        """``count`` for every row."""
        counts = np.zeros(self.size, dtype=np.float32)
        for key in keys:
            index = self.key_index.get(key)
            if index is not None:
                counts[self.rows[self.starts[index] : self.starts[index + 1]]] += 1.0
        if self._base is None:
            return counts
        base, change = self._base
        return change.combine(base.counts(keys), counts)
