import pytest

from onesearch.cascade.fusion import FusedSearcher, reciprocal_rank_fusion
from onesearch.types import Hit, SearchRequest


def test_rrf_sums_reciprocal_ranks():
    # a: 1/(60+1) + 1/(60+2) = 0.016393 + 0.016129 = 0.032522; b: 1/(60+2) + 1/(60+1) the same;
    # c: 1/(60+3) = 0.015873 only. Ties keep first appearance: a before b.
    rows, scores = reciprocal_rank_fusion([[10, 20, 30], [20, 10]])
    assert rows.tolist() == [10, 20, 30]
    assert scores[0] == pytest.approx(1 / 61 + 1 / 62)
    assert scores[2] == pytest.approx(1 / 63)


def test_weights_scale_each_list():
    # 20: 0.25/(60+2) + 1/(60+1) = 0.004032 + 0.016393; 10: 0.25/61 + 1/62 = 0.004098 + 0.016129
    # -> 20 (0.020425) ahead of 10 (0.020227): the second list decides.
    rows, scores = reciprocal_rank_fusion([[10, 20], [20, 10]], weights=[0.25, 1.0])
    assert rows.tolist() == [20, 10] and scores[0] == pytest.approx(0.25 / 62 + 1 / 61)


def test_empty_lists_fuse_to_nothing():
    rows, scores = reciprocal_rank_fusion([[], []])
    assert len(rows) == 0 and len(scores) == 0


class Fixed:
    def __init__(self, name, ids):
        self.name, self.ids = name, ids

    def search(self, requests, k):
        return [[Hit(i, 1.0) for i in self.ids[:k]] for _ in requests]


def test_fused_searcher_applies_rrf_to_any_searchers_results():
    fused = FusedSearcher("hybrid", [Fixed("a", ["x", "y", "z"]), Fixed("b", ["y", "w"])])
    hits = fused.search([SearchRequest("q")], k=3)[0]
    # y: 1/62 + 1/61 beats x: 1/61; then z (1/63) and w (1/62): w first.
    assert [h.item_id for h in hits] == ["y", "x", "w"]
    assert hits[0].score == pytest.approx(1 / 62 + 1 / 61)
