"""Reciprocal rank fusion of ranked candidate lists.

Contract: ``reciprocal_rank_fusion(lists, k)`` takes lists of document rows (best first) and
returns (rows, scores) sorted by Σ 1 / (k + rank) over the lists a row appears in (rank from 1),
ties broken by first appearance. ``FusedSearcher`` applies the same fusion to the hit lists of
any ``Searcher``s (e.g. ``hybrid`` = generative + BM25), knowing nothing of what they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from onesearch.types import Hit, SearchRequest, Searcher

__all__ = ["RRF_K", "FusedSearcher", "reciprocal_rank_fusion"]

RRF_K = 60


def reciprocal_rank_fusion(lists: Sequence[Sequence[int]], k: int = RRF_K, weights: Sequence[float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fused rows and their (weighted) RRF scores, best first: ``sum_i w_i / (k + rank_i)``."""
    score: dict[int, float] = {}
    for ranked, weight in zip(lists, weights or [1.0] * len(lists)):
        for rank, row in enumerate(ranked, start=1):
            score[int(row)] = score.get(int(row), 0.0) + weight / (k + rank)
    rows = np.array(list(score), dtype=np.int64)
    values = np.array(list(score.values()), dtype=np.float64)
    order = np.argsort(-values, kind="stable")
    return rows[order], values[order]


class FusedSearcher:
    """RRF over the results of several searchers, each asked for ``depth`` hits and weighted by
    ``weights`` (default equal)."""

    def __init__(self, name: str, searchers: Sequence[Searcher], depth: int = 100, weights: Sequence[float] | None = None) -> None:
        self.name = name
        self.searchers = list(searchers)
        self.depth = depth
        self.weights = list(weights) if weights is not None else None

    def search(self, requests: Sequence[SearchRequest], k: int) -> list[list[Hit]]:
        results = [searcher.search(requests, max(k, self.depth)) for searcher in self.searchers]
        out = []
        for per_searcher in zip(*results):
            ids = list(dict.fromkeys(h.item_id for hits in per_searcher for h in hits))
            row_of = {item: row for row, item in enumerate(ids)}
            rows, scores = reciprocal_rank_fusion([[row_of[h.item_id] for h in hits] for hits in per_searcher], weights=self.weights)
            out.append([Hit(ids[r], float(s)) for r, s in zip(rows[:k], scores[:k])])
        return out
