"""Ranking features of (request, candidate) pairs.

Contract: ``candidate_features(...)`` returns one row per candidate with the columns of
``FEATURES`` (``PRERANK_FEATURES`` is the cheap prefix used by pre-rank). Personal features read
only the request's user history, so they are as available at serving time as in evaluation.
``exclude`` removes one example's own targets from the popularity counts (leave-one-out), so
train-split features look like test-split features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from onesearch.evidence.items import ItemTable
from onesearch.evidence.profile import UserProfile, lookup
from onesearch.types import SearchRequest

__all__ = ["FEATURES", "PRERANK_FEATURES", "Channels", "candidate_features"]

PRERANK_FEATURES = ("bm25", "dense", "rrf", "log_popularity", "user_item_count")
FEATURES = (
    *PRERANK_FEATURES,
    "bm25_rank",
    "dense_rank",
    "query_terms",
    "term_coverage",
    "item_terms",
    "phrase_match",
    "user_history_length",
    "user_item_recency",
    "user_leaf_share",
    "user_brand_share",
    "history_rank",
)


@dataclass
class Channels:
    """Recall output for one request: candidate rows, each channel's evidence and the user's
    history counts (computed once, reused by the features)."""

    profile: UserProfile
    rows: np.ndarray
    rrf: np.ndarray
    bm25: np.ndarray
    dense: np.ndarray
    bm25_rank: np.ndarray
    dense_rank: np.ndarray
    history_rank: np.ndarray


def candidate_features(
    request: SearchRequest,
    channels: Channels,
    items: ItemTable,
    popularity: np.ndarray,
    query_terms: frozenset[str],
    exclude: frozenset[int] = frozenset(),
) -> np.ndarray:
    """``len(channels.rows) x len(FEATURES)`` float32 matrix."""
    rows, profile = channels.rows, channels.profile
    pop = popularity[rows] - np.array([row in exclude for row in rows], dtype=np.float32)
    lowered = request.query.lower().strip()
    n_terms = max(1, len(query_terms))
    columns = {
        "bm25": channels.bm25,
        "dense": channels.dense,
        "rrf": channels.rrf,
        "log_popularity": np.log1p(np.maximum(pop, 0.0)),
        "user_item_count": lookup(profile.items, rows).astype(np.float32),
        "bm25_rank": channels.bm25_rank,
        "dense_rank": channels.dense_rank,
        "query_terms": np.full(len(rows), len(query_terms), dtype=np.float32),
        "term_coverage": np.array([len(query_terms & items.terms[r]) / n_terms for r in rows], dtype=np.float32),
        "item_terms": np.array([len(items.terms[r]) for r in rows], dtype=np.float32),
        "phrase_match": np.array([bool(lowered) and lowered in items.texts[r].lower() for r in rows], dtype=np.float32),
        "user_history_length": np.full(len(rows), profile.length, dtype=np.float32),
        "user_item_recency": profile.recencies(rows),
        "user_leaf_share": lookup(profile.leaves, items.leaf[rows]).astype(np.float32) / max(1, profile.length),
        "user_brand_share": lookup(profile.brands, items.brand[rows]).astype(np.float32) / max(1, profile.length),
        "history_rank": channels.history_rank,
    }
    return np.stack([np.asarray(columns[name], dtype=np.float32) for name in FEATURES], axis=1)
