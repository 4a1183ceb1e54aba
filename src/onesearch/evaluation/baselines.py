"""The floor every searcher must clear: uniformly random catalog items.

Contract: ``RandomSearcher(item_ids, seed)`` implements ``types.Searcher``; each request gets ``k``
distinct items drawn without replacement from a generator seeded by ``seed`` and the request
itself, so a request's list depends on nothing searched before it (untimed warm-up searches,
batch sizes and request order change nothing).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from onesearch.types import Hit, SearchRequest

__all__ = ["RandomSearcher"]


class RandomSearcher:
    """Random distinct catalog items, scores descending by draw order."""

    name = "random"

    def __init__(self, item_ids: Sequence[str], seed: int = 0) -> None:
        self.item_ids = list(item_ids)
        self.seed = seed

    def search(self, requests: Sequence[SearchRequest], k: int) -> list[list[Hit]]:
        size = min(k, len(self.item_ids))
        return [self._draw(request, size) for request in requests]

    def _draw(self, request: SearchRequest, size: int) -> list[Hit]:
        """``size`` distinct items from the generator of this seed and request."""
        rng = np.random.default_rng([self.seed, zlib.crc32(repr(request).encode("utf-8"))])
        return [Hit(self.item_ids[r], float(-rank)) for rank, r in enumerate(rng.choice(len(self.item_ids), size, replace=False))]
