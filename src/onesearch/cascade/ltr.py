"""LambdaMART (LightGBM lambdarank) for pre-rank and rank, trained on recall's candidates.

Contract: ``training_lists`` turns examples into per-query candidate feature matrices and
graded integer labels (``round(gain * LABEL_SCALE)``; LightGBM's label gains are set back to the
linear gains, so its NDCG is ours). ``fit_stage`` trains one booster on train lists with early
stopping on valid lists' NDCG@10. Queries whose candidates hold no positive label teach nothing
and are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from onesearch.cascade.engine import Cascade
from onesearch.types import Example, SearchRequest

__all__ = ["LABEL_SCALE", "QueryLists", "RankerConfig", "fit_stage", "graded_labels", "training_lists"]

LABEL_SCALE = 3
_MAX_LABEL = 30


@dataclass(frozen=True)
class RankerConfig:
    """Booster size; pre-rank uses a small one, rank a larger one."""

    trees: int = 400
    leaves: int = 31
    learning_rate: float = 0.05
    min_data_in_leaf: int = 20
    seed: int = 0


@dataclass
class QueryLists:
    """Candidate features and labels of several queries."""

    features: list[np.ndarray]
    labels: list[np.ndarray]

    def top(self, scorer: Callable[[np.ndarray], np.ndarray], keep: int) -> QueryLists:
        """Each query's ``keep`` best candidates by ``scorer``."""
        features, labels = [], []
        for x, y in zip(self.features, self.labels):
            order = np.argsort(-scorer(x), kind="stable")[:keep]
            features.append(x[order])
            labels.append(y[order])
        return QueryLists(features, labels)


def graded_labels(gains: np.ndarray) -> np.ndarray:
    """LightGBM's integer labels of linear gains: ``round(gain * LABEL_SCALE)``, capped."""
    return np.minimum(_MAX_LABEL, np.round(np.asarray(gains, dtype=np.float64) * LABEL_SCALE)).astype(np.int32)


def training_lists(
    cascade: Cascade,
    examples: Sequence[Example],
    requests: Sequence[SearchRequest],
    leave_one_out: bool,
    batch_size: int = 256,
    advance: Callable[[int], None] | None = None,
) -> QueryLists:
    """Recall candidates of each example with features and labels (positives-free queries dropped)."""
    features, labels = [], []
    for start in range(0, len(examples), batch_size):
        batch = list(requests[start : start + batch_size])
        for example, request, channels in zip(examples[start : start + batch_size], batch, cascade.recall(batch)):
            gain = {cascade.items.row_of[t.item_id]: t.gain for t in example.targets if t.item_id in cascade.items.row_of}
            y = graded_labels(np.array([gain.get(int(r), 0.0) for r in channels.rows]))
            if not y.any():
                continue
            own = frozenset(cascade.items.row_of[t.item_id] for t in example.targets if t.relevant and t.item_id in cascade.items.row_of)
            features.append(cascade.features(request, channels, exclude=own if leave_one_out else frozenset()))
            labels.append(y)
        if advance is not None:
            advance(len(batch))
    return QueryLists(features, labels)


def fit_stage(train: QueryLists, valid: QueryLists, columns: Sequence[int], config: RankerConfig):  # type: ignore[no-untyped-def]
    """A lambdarank booster over feature ``columns``, early-stopped on valid NDCG@10."""
    import lightgbm as lgb

    params = {
        "objective": "lambdarank",
        "metric": "ndcg",
        "eval_at": [10],
        "label_gain": [i / LABEL_SCALE for i in range(_MAX_LABEL + 1)],
        "num_leaves": config.leaves,
        "learning_rate": config.learning_rate,
        "min_data_in_leaf": config.min_data_in_leaf,
        "seed": config.seed,
        "deterministic": True,
        "num_threads": 0,
        "verbosity": -1,
    }
    train_set = _dataset(lgb, train, columns)
    valid_set = _dataset(lgb, valid, columns, reference=train_set)
    return lgb.train(
        params,
        train_set,
        num_boost_round=config.trees,
        valid_sets=[valid_set],
        callbacks=[lgb.early_stopping(50, verbose=False)],
    )


def _dataset(lgb, lists: QueryLists, columns: Sequence[int], reference=None):  # type: ignore[no-untyped-def]
    if not lists.features:
        raise ValueError("no query has a positive candidate: nothing to learn to rank")
    x = np.concatenate([f[:, list(columns)] for f in lists.features])
    y = np.concatenate(lists.labels)
    return lgb.Dataset(x, y, group=[len(f) for f in lists.features], reference=reference, free_raw_data=False)
