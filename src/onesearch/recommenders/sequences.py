"""Train examples as (recent item rows, target rows): the one view every recommender learns from.

Contract: ``Sequences(item_ids)`` fixes item row i for ``item_ids[i]``; ``history(request)`` is the
rows of the request's last ``MAX_HISTORY`` known items, oldest first; ``pairs(examples, resolver)``
turns examples into (history rows, relevant target rows), dropping examples with no known target.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from onesearch.catalog.context import ContextResolver
from onesearch.evidence.history import recent_rows
from onesearch.types import Example, Hit, SearchRequest

__all__ = ["MAX_HISTORY", "Sequences", "TrainPair", "top_hits"]

MAX_HISTORY = 50


@dataclass(frozen=True)
class TrainPair:
    """One example as rows: its recent history (oldest first) and its relevant targets."""

    history: list[int]
    targets: list[int]


class Sequences:
    """Item rows of one catalog, and examples and requests seen as rows."""

    def __init__(self, item_ids: Sequence[str]) -> None:
        self.item_ids = list(item_ids)
        self.row_of = {item: row for row, item in enumerate(self.item_ids)}
        self.ids = np.array(self.item_ids, dtype=object)

    def history(self, request: SearchRequest) -> list[int]:
        return recent_rows(request.user.history, self.row_of, MAX_HISTORY)

    def pairs(self, examples: Iterable[Example], resolver: ContextResolver) -> list[TrainPair]:
        out = []
        for example in examples:
            targets = [self.row_of[t.item_id] for t in example.targets if t.relevant and t.item_id in self.row_of]
            if targets:
                out.append(TrainPair(self.history(resolver.request(example)), targets))
        return out

    def popularity(self, pairs: Iterable[TrainPair]) -> np.ndarray:
        """Per row: how many train pairs have the item as a target."""
        counts = np.zeros(len(self.item_ids), dtype=np.float64)
        for pair in pairs:
            np.add.at(counts, pair.targets, 1.0)
        return counts


def top_hits(ids: np.ndarray, scores: np.ndarray, k: int) -> list[Hit]:
    """The ``k`` best of ``scores`` (one per row of ``ids``) as hits, best first, ties by row."""
    k = min(k, len(scores))
    best = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    best = best[np.lexsort((best, -scores[best]))]
    return list(map(Hit, ids[best].tolist(), scores[best].astype(float).tolist()))
