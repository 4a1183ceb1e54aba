"""The floor every searcher must clear: uniformly random catalog items.

Contract: ``RandomSearcher(item_ids, seed)`` implements ``types.Searcher``; each request gets ``k``
distinct items drawn without replacement, reproducibly for a seed and request order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from onesearch.types import Hit, SearchRequest

__all__ = ["RandomSearcher"]


class RandomSearcher:
    """Random distinct catalog items, scores descending by draw order."""

    name = "random"

    def __init__(self, item_ids: Sequence[str], seed: int = 0) -> None:
        self.item_ids = list(item_ids)
        self.rng = np.random.default_rng(seed)

    def search(self, requests: Sequence[SearchRequest], k: int) -> list[list[Hit]]:
        size = min(k, len(self.item_ids))
        return [[Hit(self.item_ids[r], float(-rank)) for rank, r in enumerate(self.rng.choice(len(self.item_ids), size, replace=False))] for _ in requests]
