"""``Transitions``: what users touched next after an item, counted on the train split.

Contract: ``Transitions.fit(pairs)`` counts (previous item row, next item row) pairs — from each
train example, the last item of its history to each of its targets. ``followers(history, exclude)``
scores the items that followed the request's last ``WINDOW`` history items (the last weighs 1,
the one before 1/2, then 1/4), as log counts, and returns them as arrays in the order they first
follow (the last item's followers first); ``exclude`` holds (previous, next) pairs to count one
less (a train example's own pairs: leave-one-out). ``to_array``/``from_array`` keep it as an
``n x 3`` int64 matrix of (previous, next, count).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence

import numpy as np

__all__ = ["WINDOW", "Transitions"]

WINDOW = 3


class Transitions:
    """Sparse next-item counts."""

    def __init__(self, counts: dict[int, Counter[int]]) -> None:
        self.counts = counts
        self._arrays = {previous: (np.fromiter(c.keys(), dtype=np.int64, count=len(c)), np.fromiter(c.values(), dtype=np.int64, count=len(c)))
                        for previous, c in counts.items()}

    @classmethod
    def fit(cls, pairs: Iterable[tuple[int, int]]) -> Transitions:
        counts: dict[int, Counter[int]] = {}
        for previous, following in pairs:
            counts.setdefault(int(previous), Counter())[int(following)] += 1
        return cls(counts)

    def followers(self, history: Sequence[int], exclude: Collection[tuple[int, int]] = ()) -> tuple[np.ndarray, np.ndarray]:
        """(item rows, recency-weighted log count of having followed the last history items), the
        rows in the order they first follow."""
        rows, scores = [], []
        for age, previous in enumerate(reversed(list(history)[-WINDOW:])):
            found = self._arrays.get(int(previous))
            if found is None:
                continue
            following, counts = found
            dropped = [after for before, after in exclude if before == previous]
            if dropped:
                counts = counts - np.isin(following, dropped)
            kept = counts > 0
            rows.append(following[kept])
            scores.append(0.5**age * np.log1p(counts[kept]))
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        unique, first, inverse = np.unique(np.concatenate(rows), return_index=True, return_inverse=True)
        total = np.bincount(inverse.reshape(-1), weights=np.concatenate(scores), minlength=len(unique))
        order = np.argsort(first, kind="stable")
        return unique[order], total[order]

    def to_array(self) -> np.ndarray:
        rows = [(p, n, c) for p, counter in self.counts.items() for n, c in counter.items()]
        return np.array(rows, dtype=np.int64).reshape(len(rows), 3)

    @classmethod
    def from_array(cls, array: np.ndarray) -> Transitions:
        counts: dict[int, Counter[int]] = {}
        for previous, following, count in np.asarray(array, dtype=np.int64).tolist():
            counts.setdefault(previous, Counter())[following] = count
        return cls(counts)
