"""Rank evidence: positions in a ranked list and their [0, 1] scalings."""

from __future__ import annotations

import numpy as np
import pytest

from onesearch.evidence.ranks import log_ranks, ranks_in, reciprocal_ranks


def test_ranks_are_one_based_positions_and_zero_when_absent():
    assert ranks_in(np.array([7, 3, 9, 4]), np.array([3, 9, 7])).tolist() == [3.0, 1.0, 2.0, 0.0]
    assert ranks_in(np.array([1, 2]), np.array([], dtype=np.int64)).tolist() == [0.0, 0.0]


def test_reciprocal_and_log_ranks_are_one_at_the_top_and_zero_when_unranked():
    ranks = np.array([1.0, 2.0, 300.0, 0.0])
    assert reciprocal_ranks(ranks).tolist() == pytest.approx([1.0, 0.5, 1 / 300, 0.0])
    scaled = log_ranks(ranks, 300)
    assert scaled[0] == 1.0 and scaled[3] == 0.0 and 0.0 < scaled[2] < 0.01 < scaled[1] < 1.0
    assert scaled[1] == pytest.approx(1 - np.log(2) / np.log(301))
