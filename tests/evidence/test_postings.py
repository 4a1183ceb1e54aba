import random

import numpy as np

from onesearch.evidence.items import RowChange
from onesearch.evidence.postings import Postings


def test_count_equals_the_set_intersection_size_for_every_row():
    rng = random.Random(3)
    vocabulary = [f"w{i}" for i in range(30)] + [("a", "b"), ("b", "c")]
    rows = [frozenset(rng.sample(vocabulary, rng.randrange(0, 8))) for _ in range(200)]
    postings = Postings.build(rows)
    for _ in range(20):
        keys = rng.sample(vocabulary, 4) + ["never-seen"]
        wanted = rng.sample(range(len(rows)), 50)
        expected = [len(set(keys) & rows[r]) for r in wanted]
        assert postings.count(keys, np.array(wanted)).tolist() == expected


def test_a_repeated_key_counts_once_and_no_rows_give_an_empty_array():
    postings = Postings.build([["x", "x", "y"], ["y"], []])
    assert postings.count(["x", "x"], np.array([0, 1, 2])).tolist() == [1.0, 0.0, 0.0]
    assert postings.count(["x"], np.array([], dtype=np.int64)).shape == (0,)


def test_changed_postings_count_like_postings_built_over_the_changed_rows():
    rng = random.Random(5)
    vocabulary = [f"w{i}" for i in range(20)]
    rows = [frozenset(rng.sample(vocabulary, rng.randrange(0, 6))) for _ in range(60)]
    tail = [frozenset(rng.sample([*vocabulary, "new"], 3)) for _ in range(7)]
    change = RowChange(np.array(sorted(rng.sample(range(60), 45))), len(tail))
    changed = Postings.build(rows).changed(change, tail)
    rebuilt = Postings.build(change.rows(rows, tail))
    for _ in range(10):
        keys = rng.sample([*vocabulary, "new"], 4)
        every = np.arange(len(change))
        assert changed.count(keys, every).tolist() == rebuilt.count(keys, every).tolist()
