"""``Transitions``: what users touched next after an item, counted on the train split.

Contract: ``Transitions.fit(pairs)`` counts (previous item row, next item row) pairs — from each
train example, the last item of its history to each of its targets. ``followers(history, exclude)``
scores the items that followed the request's last ``WINDOW`` history items (the last weighs 1,
the one before 1/2, then 1/4), as log counts; ``exclude`` holds (previous, next) pairs to count
one less (a train example's own pairs: leave-one-out). ``to_array``/``from_array`` keep it as an
``n x 3`` int64 matrix of (previous, next, count).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence

import numpy as np

__all__ = ["Transitions"]

WINDOW = 3


class Transitions:
    """Sparse next-item counts."""

    def __init__(self, counts: dict[int, Counter[int]]) -> None:
        self.counts = counts

    @classmethod
    def fit(cls, pairs: Iterable[tuple[int, int]]) -> Transitions:
        counts: dict[int, Counter[int]] = {}
        for previous, following in pairs:
            counts.setdefault(int(previous), Counter())[int(following)] += 1
        return cls(counts)

    def followers(self, history: Sequence[int], exclude: Collection[tuple[int, int]] = ()) -> dict[int, float]:
        """Item row -> recency-weighted log count of having followed the last history items."""
        out: dict[int, float] = {}
        for age, previous in enumerate(reversed(list(history)[-WINDOW:])):
            for following, count in self.counts.get(int(previous), {}).items():
                count -= (int(previous), following) in exclude
                if count > 0:
                    out[following] = out.get(following, 0.0) + 0.5**age * float(np.log1p(count))
        return out

    def to_array(self) -> np.ndarray:
        rows = [(p, n, c) for p, counter in self.counts.items() for n, c in counter.items()]
        return np.array(rows, dtype=np.int64).reshape(len(rows), 3)

    @classmethod
    def from_array(cls, array: np.ndarray) -> Transitions:
        counts: dict[int, Counter[int]] = {}
        for previous, following, count in np.asarray(array, dtype=np.int64).tolist():
            counts.setdefault(previous, Counter())[following] = count
        return cls(counts)
