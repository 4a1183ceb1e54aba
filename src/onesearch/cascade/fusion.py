"""Reciprocal rank fusion of ranked candidate lists.

Contract: ``reciprocal_rank_fusion(lists, k)`` takes lists of document rows (best first) and
returns (rows, scores) sorted by Σ 1 / (k + rank) over the lists a row appears in (rank from 1),
ties broken by first appearance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["RRF_K", "reciprocal_rank_fusion"]

RRF_K = 60


def reciprocal_rank_fusion(lists: Sequence[Sequence[int]], k: int = RRF_K) -> tuple[np.ndarray, np.ndarray]:
    """Fused rows and their RRF scores, best first."""
    score: dict[int, float] = {}
    for ranked in lists:
        for rank, row in enumerate(ranked, start=1):
            score[int(row)] = score.get(int(row), 0.0) + 1.0 / (k + rank)
    rows = np.array(list(score), dtype=np.int64)
    values = np.array(list(score.values()), dtype=np.float64)
    order = np.argsort(-values, kind="stable")
    return rows[order], values[order]
