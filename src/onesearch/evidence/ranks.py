"""Rank evidence of a ranked list, shared by the plan and the decoder's dense plan.

Contract: numpy only (the decoder imports it without the catalog). Ranks are 1-based floats, 0
for an item not in the list; ``reciprocal_ranks`` and ``log_ranks`` map them to [0, 1].
"""

from __future__ import annotations

import numpy as np

__all__ = ["log_ranks", "ranks_in", "reciprocal_ranks"]


def ranks_in(rows: np.ndarray, ranked: np.ndarray) -> np.ndarray:
    """1-based rank of each of ``rows`` in ``ranked`` (distinct rows, best first); 0 for rows not in it."""
    rows, ranked = np.asarray(rows, dtype=np.int64), np.asarray(ranked, dtype=np.int64)
    if not len(ranked):
        return np.zeros(len(rows), dtype=np.float32)
    order = np.argsort(ranked, kind="stable")
    index = np.minimum(np.searchsorted(ranked[order], rows), len(ranked) - 1)
    return np.where(ranked[order][index] == rows, order[index] + 1, 0).astype(np.float32)


def reciprocal_ranks(ranks: np.ndarray) -> np.ndarray:
    """1 / rank of 1-based ``ranks``; 0 where the rank is 0 (unranked)."""
    return np.where(ranks > 0, 1.0 / np.maximum(ranks, 1.0), 0.0).astype(np.float32)


def log_ranks(ranks: np.ndarray, depth: int) -> np.ndarray:
    """1 - log(rank) / log(depth + 1) of 1-based ``ranks`` in a list of ``depth`` (1 at the top,
    about 0 at the bottom, linear in log rank, so it still separates deep ranks); 0 where unranked."""
    return np.where(ranks > 0, 1.0 - np.log(np.maximum(ranks, 1.0)) / np.log(depth + 1.0), 0.0).astype(np.float32)
