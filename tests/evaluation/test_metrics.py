import math

import pytest

from onesearch.evaluation.metrics import metric_names, score_ranking
from onesearch.types import Target


def test_hand_computed_values():
    # Targets: a (gain 2, relevant), b (gain 1, relevant), c (gain 0.5, not relevant).
    # Ranking: x, b, c, a  ->  relevant hits at ranks 2 (b) and 4 (a).
    targets = [Target("a", 2.0, True), Target("b", 1.0, True), Target("c", 0.5, False)]
    s = score_ranking(["x", "b", "c", "a"], targets, cutoffs=(1, 2, 5))
    # Recall: @1 0/2, @2 1/2, @5 2/2.  HR: 0, 1, 1.  MRR: first relevant at rank 2 -> 0, 1/2, 1/2.
    assert (s["recall@1"], s["recall@2"], s["recall@5"]) == (0.0, 0.5, 1.0)
    assert (s["hr@1"], s["hr@2"], s["hr@5"]) == (0.0, 1.0, 1.0)
    assert (s["mrr@1"], s["mrr@2"], s["mrr@5"]) == (0.0, 0.5, 0.5)
    # DCG@5 = 0/log2(2) + 1/log2(3) + 0.5/log2(4) + 2/log2(5) = 0.63093 + 0.25 + 0.86135 = 1.74228
    # IDCG@5 = 2/log2(2) + 1/log2(3) + 0.5/log2(4) = 2 + 0.63093 + 0.25 = 2.88093
    dcg5 = 1 / math.log2(3) + 0.5 / 2 + 2 / math.log2(5)
    idcg5 = 2 + 1 / math.log2(3) + 0.5 / 2
    assert s["ndcg@5"] == pytest.approx(dcg5 / idcg5) == pytest.approx(0.604764, abs=1e-6)
    # NDCG@1: DCG 0 (x has no gain) -> 0.  NDCG@2: (1/log2 3) / (2 + 1/log2 3) = 0.63093 / 2.63093
    assert s["ndcg@1"] == 0.0
    assert s["ndcg@2"] == pytest.approx((1 / math.log2(3)) / (2 + 1 / math.log2(3)))


def test_perfect_ranking_scores_one_and_duplicates_count_once():
    targets = [Target("a", 2.0, True), Target("b", 1.0, True)]
    s = score_ranking(["a", "a", "b"], targets, cutoffs=(2, 10))
    # The repeated "a" is dropped, so the list is a, b: the ideal order.
    assert s["ndcg@2"] == pytest.approx(1.0)
    assert s["recall@2"] == 1.0 and s["mrr@10"] == 1.0


def test_example_without_relevant_target_is_not_scored():
    assert score_ranking(["a"], [Target("a", 0.5, False)]) is None


def test_names_are_metric_major_over_every_cutoff():
    assert metric_names((1, 10)) == ["recall@1", "recall@10", "hr@1", "hr@10", "mrr@1", "mrr@10", "ndcg@1", "ndcg@10", "map@1", "map@10"]
    assert len(score_ranking([], [Target("a", 1.0, True)])) == 30


def test_map_averages_the_precision_at_each_relevant_rank():
    targets = [Target("a", 1.0, True), Target("b", 1.0, True), Target("c", 1.0, True)]
    scores = score_ranking(["a", "x", "b", "y"], targets)
    assert scores["map@5"] == pytest.approx((1 + 2 / 3) / 3)
    assert scores["map@1"] == 1.0  # one relevant slot at K = 1
    assert score_ranking(["x", "a"], [Target("a", 1.0, True)])["map@5"] == 0.5
