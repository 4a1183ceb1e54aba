"""``CoBuyers``: which train users touched which items, read as "users like this one also bought".

Contract: ``CoBuyers.fit(touched, items)`` keeps, per train user id, the distinct item rows of
their relevant train targets. ``scores(history, user_id)`` answers, for every item row, the
co-buy score: the number of (other user, history item) pairs where that user touched both the
history item and the item — item-based collaborative filtering with raw co-occurrence counts.
``buyers(rows, user_id)`` counts the other users who touched each of ``rows``. "Other" leaves the requesting user's own train
row out, always: a train example's targets are in its user's row, so without that its evidence
would not look like a test request's. ``save``/``load`` keep it as two arrays in one ``.npz``
file; ``remapped(row)`` is the same over a changed catalog (``row[old] = new`` row, -1: gone).
Cost per request: one pass over the (user, item) pairs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
from scipy import sparse

__all__ = ["CoBuyers"]


class CoBuyers:
    """Sparse users x items matrix of train touches, with the user ids naming its rows."""

    def __init__(self, users: Sequence[str], pairs: np.ndarray, items: int) -> None:
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        self.users = list(users)
        self.pairs = pairs
        self.items = items
        self._index = {user: n for n, user in enumerate(self.users)}
        matrix = sparse.csr_matrix((np.ones(len(pairs), dtype=np.float32), (pairs[:, 0], pairs[:, 1])), shape=(len(self.users), items))
        matrix.sum_duplicates()
        matrix.data[:] = 1.0
        self._rows, self._columns = matrix, matrix.tocsc()
        self._buyers = np.asarray(matrix.sum(axis=0), dtype=np.float32).reshape(-1)

    @classmethod
    def fit(cls, touched: Mapping[str, Iterable[int]], items: int) -> CoBuyers | None:
        """From each user id's touched item rows; None when no user touched anything."""
        users = [user for user, rows in touched.items() if rows]
        pairs = [(n, int(row)) for n, user in enumerate(users) for row in set(touched[user])]
        return cls(users, np.array(pairs, dtype=np.int64), items) if pairs else None

    def scores(self, history: Sequence[int], user_id: str | None) -> np.ndarray:
        """The co-buy score of every item row for a request with these history rows."""
        rows = np.unique(np.asarray(history, dtype=np.int64))
        rows = rows[(rows >= 0) & (rows < self.items)]
        if not len(rows):
            return np.zeros(self.items, dtype=np.float32)
        overlap = np.asarray(self._columns[:, rows].sum(axis=1), dtype=np.float32).reshape(-1)  # history items each user touched
        own = self._own(user_id)
        if own is not None:
            overlap[own] = 0.0
        return np.asarray(self._rows.T @ overlap, dtype=np.float32).reshape(-1)

    def buyers(self, rows: np.ndarray, user_id: str | None) -> np.ndarray:
        """How many train users other than the requesting one touched each of ``rows``."""
        counts = self._buyers[rows]
        own = self._own(user_id)
        if own is None:
            return counts
        return counts - np.isin(rows, self._rows.indices[self._rows.indptr[own] : self._rows.indptr[own + 1]])

    def _own(self, user_id: str | None) -> int | None:
        """The requesting user's row, if they are a train user."""
        return self._index.get(user_id) if user_id is not None else None

    def remapped(self, row: np.ndarray, items: int) -> CoBuyers:
        """The same touches over a changed catalog of ``items`` rows: trained row r is row ``row[r]`` (-1: gone)."""
        mapped = np.asarray(row, dtype=np.int64)[self.pairs[:, 1]] if len(self.pairs) else np.zeros(0, dtype=np.int64)
        kept = mapped >= 0
        return CoBuyers(self.users, np.stack([self.pairs[kept, 0], mapped[kept]], axis=1), items)

    def save(self, path: Path) -> None:
        with open(path, "wb") as out:
            np.savez(out, users=np.array(self.users, dtype=str), pairs=self.pairs, items=np.array(self.items))

    @classmethod
    def load(cls, path: Path) -> CoBuyers:
        with np.load(path) as saved:
            return cls([str(u) for u in saved["users"]], saved["pairs"], int(saved["items"]))
