"""``CoBuyers``: what other train users touched beside the request's history items."""

from __future__ import annotations

import numpy as np

from onesearch.evidence.cobuy import CoBuyers


def _buyers() -> CoBuyers:
    fitted = CoBuyers.fit({"u": [0, 1], "v": [0, 2, 3], "w": [1, 2], "idle": []}, items=5)
    assert fitted is not None
    return fitted


def test_co_buy_counts_other_users_pairs_with_the_history_and_leaves_the_own_row_out():
    buyers = _buyers()
    co = buyers.scores([0, 0, 1], "u")  # v shares item 0 (one pair), w shares item 1 (one pair)
    np.testing.assert_array_equal(co, [1.0, 1.0, 2.0, 1.0, 0.0])
    np.testing.assert_array_equal(buyers.buyers(np.arange(5), "u"), [1.0, 1.0, 2.0, 1.0, 0.0])
    anonymous = buyers.scores([0, 1], None)  # no own row: u's pairs count too
    np.testing.assert_array_equal(anonymous, [3.0, 3.0, 2.0, 1.0, 0.0])
    np.testing.assert_array_equal(buyers.buyers(np.array([4, 0, 2]), None), [0.0, 2.0, 2.0])
    assert not buyers.scores([], "u").any() and buyers.users == ["u", "v", "w"]
    assert CoBuyers.fit({"idle": []}, items=5) is None


def test_saved_and_remapped_co_buyers_answer_as_the_original(tmp_path):
    buyers = _buyers()
    buyers.save(tmp_path / "co.npz")
    loaded = CoBuyers.load(tmp_path / "co.npz")
    np.testing.assert_array_equal(loaded.scores([0], "w"), buyers.scores([0], "w"))
    moved = buyers.remapped(np.array([1, -1, 0, 2, 3]), items=4)  # item 1 is gone, 0 <-> 2 swapped places with 2 -> 0
    co = moved.scores([1], "w")  # trained item 0 is row 1 now; w's own row is left out
    np.testing.assert_array_equal(co, [1.0, 2.0, 1.0, 0.0])
