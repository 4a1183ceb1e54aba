import numpy as np
import pytest

from onesearch.semantic_ids.metrics import code_utilisation, collisions, independent_coding_rate, neighbour_preservation, purity

# Five items, two positions with sizes (2, 4):
# (0,0) (0,0) (0,1) (1,3) (1,2)  -> prefixes of length 1: {0, 1}; full codes: 4 distinct.
CODES = np.array([[0, 0], [0, 0], [0, 1], [1, 3], [1, 2]])


def test_utilisation_divides_distinct_prefixes_by_the_code_space():
    # cur@1 = 2 / 2 = 1.0; cur@2 = 4 distinct / (2 * 4) = 0.5
    assert code_utilisation(CODES, (2, 4)) == {"cur@1": 1.0, "cur@2": 0.5}


def test_independent_coding_rate_and_collisions():
    # Items 3, 4, 5 are alone on their code; items 1 and 2 share (0, 0): ICR = 3 / 5.
    assert independent_coding_rate(CODES) == pytest.approx(0.6)
    assert collisions(CODES) == {"distinct_codes": 4, "shared_codes": 1, "items_on_shared_codes": 2, "largest_group": 2, "mean_shared_group": 2.0}


def test_purity_counts_the_majority_category_per_cluster():
    # depth 1: cluster 0 = shoes, shoes, hats (majority 2); cluster 1 = hats, None (majority 1 of 1 known).
    # purity = (2 + 1) / 4 known categories = 0.75
    assert purity(CODES, ["shoes", "shoes", "hats", "hats", None], 1) == pytest.approx(0.75)
    assert purity(CODES, [None] * 5, 1) is None


def test_neighbour_preservation_is_one_when_codes_follow_the_geometry():
    x = np.array([[1, 0], [0.99, 0.1], [0, 1], [0.1, 0.99]], dtype=np.float32)
    codes = np.array([[0], [0], [1], [1]])
    assert neighbour_preservation(x, codes, 1, k=1) == 1.0
    assert neighbour_preservation(x, np.array([[0], [1], [0], [1]]), 1, k=1) == 0.0


def test_top_value_share_is_the_most_common_values_share_per_position():
    from onesearch.semantic_ids.metrics import top_value_shares

    codes = np.array([[0, 5], [0, 5], [1, 5], [2, 4]])
    assert top_value_shares(codes) == [0.5, 0.75]
