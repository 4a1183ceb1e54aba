import pytest

from onesearch.cascade.fusion import reciprocal_rank_fusion


def test_rrf_sums_reciprocal_ranks():
    # a: 1/(60+1) + 1/(60+2) = 0.016393 + 0.016129 = 0.032522; b: 1/(60+2) + 1/(60+1) the same;
    # c: 1/(60+3) = 0.015873 only. Ties keep first appearance: a before b.
    rows, scores = reciprocal_rank_fusion([[10, 20, 30], [20, 10]])
    assert rows.tolist() == [10, 20, 30]
    assert scores[0] == pytest.approx(1 / 61 + 1 / 62)
    assert scores[2] == pytest.approx(1 / 63)


def test_empty_lists_fuse_to_nothing():
    rows, scores = reciprocal_rank_fusion([[], []])
    assert len(rows) == 0 and len(scores) == 0
