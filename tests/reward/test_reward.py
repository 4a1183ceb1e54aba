"""The reward model on the tiny generic shop: built from the train split, cached, calibrated,
and served as ``cascade+reward``."""

from __future__ import annotations

import numpy as np
import pytest

from onesearch.cascade.build import build_cascade
from onesearch.catalog import registry
from onesearch.catalog.context import ContextResolver
from onesearch.catalog.schema import examples_of
from onesearch.reward.build import RewardSettings, build_reward
from onesearch.reward.cross import CrossConfig
from onesearch.reward.model import BEHAVIOUR_FEATURES, REWARD_FEATURES, Calibration, reward_columns
from onesearch.reward.searcher import RewardSearcher
from onesearch.cascade.ltr import RankerConfig
from tests.cascade.test_build import SETTINGS

SMALL = RewardSettings(cross_queries=60, negatives=4, stack_queries=60, valid_queries=30, depth=20, cross=CrossConfig(groups_per_step=8),
                       booster=RankerConfig(trees=30, leaves=7, min_data_in_leaf=5))


@pytest.fixture(scope="module")
def rewarded(tiny_shop, tmp_path_factory):
    dataset = registry.load("generic", tiny_shop, source=tiny_shop)
    directory = tmp_path_factory.mktemp("reward")
    cascade = build_cascade(dataset, directory, SETTINGS, log=lambda _: None)
    messages: list[str] = []
    return dataset, directory, cascade, build_reward(dataset, cascade, directory, SMALL, log=messages.append), messages


def test_the_reward_model_is_built_once_and_reused(rewarded):
    dataset, directory, cascade, _, messages = rewarded
    assert any("cross-encoder" in m for m in messages) and any("reward booster" in m for m in messages)
    again: list[str] = []
    build_reward(dataset, cascade, directory, SMALL, log=again.append)
    assert again == []


def test_cascade_plus_reward_reranks_the_cascade_head_with_calibrated_rewards(rewarded):
    dataset, _, _, reward, _ = rewarded
    test = [e for e in examples_of(dataset.examples) if e.split == "test"][:8]
    requests = ContextResolver(dataset).requests(test)
    scored = reward.score(requests)
    for s in scored:
        assert len(set(s.rows.tolist())) == len(s.rows)
        assert np.all(np.diff(s.rewards) <= 1e-6)  # best first, the tail below the head
        assert s.rewards[: reward.depth].min() >= 0.0  # calibrated to the gain scale
    hits = RewardSearcher(reward).search(requests, 5)
    assert [[h.item_id for h in row] for row in hits] == [[reward.cascade.items.ids[r] for r in s.rows[:5]] for s in scored]


def test_the_relevance_only_ablation_reads_no_behaviour_column():
    names = [REWARD_FEATURES[c] for c in reward_columns(behaviour=False)]
    assert "cross" in names and not set(BEHAVIOUR_FEATURES) & set(names)
    assert len(reward_columns(behaviour=True)) == len(REWARD_FEATURES)


def test_calibration_is_monotone_and_maps_scores_to_mean_gains():
    scores = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    gains = np.array([0.0, 0.0, 1.0, 0.0, 2.0, 2.0])
    calibration = Calibration.fit(scores, gains, bins=3)
    assert calibration.gains == (0.0, 0.5, 2.0)
    mapped = calibration(np.array([-10.0, 0.5, 2.5, 9.0]))
    assert mapped.tolist() == [0.0, 0.0, 0.5, 2.0]
    assert np.all(np.diff(calibration(np.linspace(-1, 6, 50))) >= 0)
