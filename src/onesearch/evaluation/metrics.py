"""Ranking metrics over ranked item ids and judged targets.

Contract: ``score_ranking`` takes one ranked list of item ids (best first) and the example's
targets and returns every metric at every cutoff in ``CUTOFFS`` as a flat dict
(``"ndcg@10"`` ...). Definitions, with ranks counted from 1:

- Recall@K = |relevant ∩ top K| / |relevant|;  HR@K = 1 if any relevant item is in the top K;
- MRR@K = 1 / rank of the first relevant item within the top K, else 0;
- NDCG@K = DCG@K / IDCG@K with linear gains: DCG@K = Σ gain(item at rank r) / log2(r + 1),
  IDCG@K the same over the targets sorted by gain (graded labels, e.g. Home Depot relevance - 1);
- MAP@K (mean over examples of AP@K) with AP@K = Σ_{r ≤ K, item r relevant} precision@r
  / min(|relevant|, K) (the Best Buy competition's measure at K = 5).

Examples without a relevant target cannot be scored; ``score_ranking`` returns None for them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from onesearch.types import Target

__all__ = ["CUTOFFS", "METRICS", "metric_names", "score_ranking"]

CUTOFFS = (1, 5, 10, 50, 100, 350)
METRICS = ("recall", "hr", "mrr", "ndcg", "map")


def metric_names(cutoffs: Sequence[int] = CUTOFFS) -> list[str]:
    """``"recall@1" ... "ndcg@350"``: the keys ``score_ranking`` returns, metric-major."""
    return [f"{metric}@{k}" for metric in METRICS for k in cutoffs]


def score_ranking(ranked: Sequence[str], targets: Sequence[Target], cutoffs: Sequence[int] = CUTOFFS) -> dict[str, float] | None:
    """Every metric at every cutoff for one ranked list; None when no target is relevant."""
    relevant = {t.item_id for t in targets if t.relevant}
    if not relevant:
        return None
    gain_of = {t.item_id: t.gain for t in targets}
    depth = max(cutoffs)
    top = list(dict.fromkeys(ranked))[:depth]
    hit = np.array([item in relevant for item in top], dtype=bool)
    discount = 1.0 / np.log2(np.arange(2, depth + 2))
    gains = np.array([gain_of.get(item, 0.0) for item in top], dtype=float)
    dcg = np.cumsum(np.pad(gains * discount[: len(top)], (0, depth - len(top))))
    ideal = np.sort(np.array([t.gain for t in targets], dtype=float))[::-1][:depth]
    idcg = np.cumsum(np.pad(ideal * discount[: len(ideal)], (0, depth - len(ideal))))
    hits = np.cumsum(np.pad(hit, (0, depth - len(top))))
    precision_sum = np.cumsum(np.pad(hit, (0, depth - len(top))) * hits / np.arange(1, depth + 1))
    first = int(np.argmax(hit)) + 1 if hit.any() else None
    scores: dict[str, float] = {}
    for k in cutoffs:
        scores[f"recall@{k}"] = hits[k - 1] / len(relevant)
        scores[f"hr@{k}"] = float(hits[k - 1] > 0)
        scores[f"mrr@{k}"] = 1.0 / first if first is not None and first <= k else 0.0
        scores[f"ndcg@{k}"] = dcg[k - 1] / idcg[k - 1] if idcg[k - 1] > 0 else 0.0
        scores[f"map@{k}"] = precision_sum[k - 1] / min(len(relevant), k)
    return {name: float(scores[name]) for name in metric_names(cutoffs)}
