"""The reward model: the cross-encoder's relevance plus the cascade's behaviour and popularity
features, one LambdaMART over both, calibrated to the task's gain scale.

Contract: ``RewardModel.score(requests)`` gives, for each request, the cascade's pre-rank top
``depth`` candidate rows and their calibrated rewards (best first; a reward estimates the gain a
judge would give, so rewards of different requests are comparable), followed by the rest of
recall in pre-rank order with rewards below the head's. ``REWARD_FEATURES`` are the cascade's
``FEATURES`` plus ``cross``; with ``behaviour=False`` (the ablation) the booster reads none of the
user and popularity columns (``BEHAVIOUR_FEATURES``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from onesearch.cascade.engine import Cascade
from onesearch.cascade.features import FEATURES, Channels
from onesearch.reward.cross import CrossScorer
from onesearch.types import SearchRequest

__all__ = ["BEHAVIOUR_FEATURES", "REWARD_FEATURES", "Calibration", "RewardModel", "Scored", "prerank_order", "reward_columns"]

REWARD_FEATURES = (*FEATURES, "cross")
BEHAVIOUR_FEATURES = ("log_popularity", "user_item_count", "user_history_length", "user_item_recency", "user_leaf_share", "user_brand_share", "history_rank")


def reward_columns(behaviour: bool) -> list[int]:
    """Columns of ``REWARD_FEATURES`` the booster reads."""
    return [i for i, name in enumerate(REWARD_FEATURES) if behaviour or name not in BEHAVIOUR_FEATURES]


def prerank_order(cascade: Cascade, request: SearchRequest, channels: Channels, exclude: frozenset[int] = frozenset()) -> tuple[np.ndarray, np.ndarray]:
    """Positions in ``channels.rows`` in pre-rank order, and the cascade's feature matrix
    (``exclude``: rows left out of the popularity counts, for train examples)."""
    features = cascade.features(request, channels, exclude)
    return np.argsort(-cascade.prerank(features), kind="stable"), features


@dataclass(frozen=True)
class Calibration:
    """A monotone map from booster scores to gains: ``knots`` (ascending scores) -> ``gains``."""

    knots: tuple[float, ...]
    gains: tuple[float, ...]

    @classmethod
    def fit(cls, scores: np.ndarray, gains: np.ndarray, bins: int = 20) -> Calibration:
        """Mean gain per score quantile bin, made non-decreasing."""
        order = np.argsort(scores, kind="stable")
        chunks = [c for c in np.array_split(order, min(bins, max(1, len(order)))) if len(c)]
        knots = [float(np.mean(scores[c])) for c in chunks]
        means = np.maximum.accumulate([float(np.mean(gains[c])) for c in chunks])
        return cls(tuple(knots), tuple(float(g) for g in means))

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        return np.interp(scores, self.knots, self.gains).astype(np.float32)


@dataclass(frozen=True)
class Scored:
    """One request's candidates, best first, with their rewards."""

    rows: np.ndarray
    rewards: np.ndarray


@dataclass
class RewardModel:
    """A built cascade, the cross-encoder, the reward booster and its calibration, and the folder
    they were built in."""

    cascade: Cascade
    cross: CrossScorer
    booster: object
    calibration: Calibration
    directory: Path
    behaviour: bool = True
    depth: int = 50

    def score(self, requests: Sequence[SearchRequest]) -> list[Scored]:
        """Rewarded candidates of each request (see module docstring)."""
        out = []
        for request, channels in zip(requests, self.cascade.recall(requests)):
            order, features = prerank_order(self.cascade, request, channels)
            top, tail = order[: self.depth], order[self.depth :]
            texts = [self.cascade.items.texts[r] for r in channels.rows[top]]
            matrix = np.concatenate([features[top], self.cross.score(request.query, texts)[:, None]], axis=1)
            rewards = self.calibration(self.booster.predict(matrix[:, reward_columns(self.behaviour)]))  # type: ignore[attr-defined]
            ranked = np.argsort(-rewards, kind="stable")
            floor = float(rewards.min()) if len(rewards) else 0.0
            tail_rewards = np.minimum(floor, 0.0) - np.arange(1, len(tail) + 1, dtype=np.float32) * 1e-3
            out.append(Scored(channels.rows[np.concatenate([top[ranked], tail])], np.concatenate([rewards[ranked], tail_rewards]).astype(np.float32)))
        return out
