"""``Transitions``: what users touched next after an item, counted on the train split.

Contract: ``Transitions.fit(pairs)`` counts (previous item row, next item row) pairs — from each
train example, the last item of its history to each of its targets. ``followers(history, exclude)``
scores the items that followed the request's last ``WINDOW`` history items (the last weighs 1,
the one before 1/2, then 1/4), as log counts, and returns them as arrays in the order they first
follow (the last item's followers first); ``exclude`` holds (previous, next) pairs to count one
less (a train example's own pairs: leave-one-out). ``preceders(history, exclude)`` is the same
the other way round: the items that came *before* the last history items elsewhere (bought-together
evidence the history's order does not show). ``to_array``/``from_array`` keep it as an ``n x 3``
int64 matrix of (previous, next, count).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence

import numpy as np

__all__ = ["WINDOW", "Transitions"]

WINDOW = 3

Arrays = dict[int, tuple[np.ndarray, np.ndarray]]  # item -> (neighbour rows, counts)


class Transitions:
    """Sparse next-item counts."""

    def __init__(self, counts: dict[int, Counter[int]]) -> None:
        self.counts = counts
        self._arrays = _arrays(counts)
        self._reverse: Arrays | None = None

    @classmethod
    def fit(cls, pairs: Iterable[tuple[int, int]]) -> Transitions:
        counts: dict[int, Counter[int]] = {}
        for previous, following in pairs:
            counts.setdefault(int(previous), Counter())[int(following)] += 1
        return cls(counts)

    def followers(self, history: Sequence[int], exclude: Collection[tuple[int, int]] = ()) -> tuple[np.ndarray, np.ndarray]:
        """(item rows, recency-weighted log count of having followed the last history items), the
        rows in the order they first follow."""
        return _weighted(self._arrays, history, exclude)

    def preceders(self, history: Sequence[int], exclude: Collection[tuple[int, int]] = ()) -> tuple[np.ndarray, np.ndarray]:
        """``followers`` the other way round: (item rows, recency-weighted log count of having come
        right before the last history items), ``exclude`` still as (previous, next) pairs."""
        if self._reverse is None:
            reverse: dict[int, Counter[int]] = {}
            for previous, counter in self.counts.items():
                for following, count in counter.items():
                    reverse.setdefault(following, Counter())[previous] = count
            self._reverse = _arrays(reverse)
        return _weighted(self._reverse, history, [(after, before) for before, after in exclude])

    def to_array(self) -> np.ndarray:
        rows = [(p, n, c) for p, counter in self.counts.items() for n, c in counter.items()]
        return np.array(rows, dtype=np.int64).reshape(len(rows), 3)

    @classmethod
    def from_array(cls, array: np.ndarray) -> Transitions:
        counts: dict[int, Counter[int]] = {}
        for previous, following, count in np.asarray(array, dtype=np.int64).tolist():
            counts.setdefault(previous, Counter())[following] = count
        return cls(counts)


def _arrays(counts: dict[int, Counter[int]]) -> Arrays:
    return {key: (np.fromiter(c.keys(), dtype=np.int64, count=len(c)), np.fromiter(c.values(), dtype=np.int64, count=len(c))) for key, c in counts.items()}


def _weighted(arrays: Arrays, history: Sequence[int], exclude: Collection[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """(neighbour rows, log counts of the last ``WINDOW`` history items' neighbours, the last
    weighing 1, each earlier one half the next), rows in the order they first appear; the
    ``exclude`` pairs (item, neighbour) count one less."""
    rows, scores = [], []
    for age, item in enumerate(reversed(list(history)[-WINDOW:])):
        found = arrays.get(int(item))
        if found is None:
            continue
        neighbours, counts = found
        dropped = [after for before, after in exclude if before == item]
        if dropped:
            counts = counts - np.isin(neighbours, dropped)
        kept = counts > 0
        rows.append(neighbours[kept])
        scores.append(0.5**age * np.log1p(counts[kept]))
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    unique, first, inverse = np.unique(np.concatenate(rows), return_index=True, return_inverse=True)
    total = np.bincount(inverse.reshape(-1), weights=np.concatenate(scores), minlength=len(unique))
    order = np.argsort(first, kind="stable")
    return unique[order], total[order]
