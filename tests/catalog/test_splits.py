from collections import Counter

import pyarrow.compute as pc

from onesearch.catalog.schema import EXAMPLES, ITEMS, Dataset, build_table
from onesearch.catalog.splits import hash_split, recency_split, use_test_file


def test_hash_split_is_deterministic_and_near_its_fractions():
    keys = [f"query {n}" for n in range(20_000)]
    first = hash_split(keys, seed=7)
    assert first == hash_split(keys, seed=7)
    assert first != hash_split(keys, seed=8)
    shares = Counter(first)
    assert abs(shares["train"] / 20_000 - 0.8) < 0.01 and abs(shares["test"] / 20_000 - 0.1) < 0.01
    # a key's split does not depend on the other keys
    assert hash_split(keys[:10], seed=7) == first[:10]


def test_recency_split():
    assert list(recency_split([0, 1, 2, 5])) == ["test", "valid", "train", "train"]


def _examples(rows):
    return build_table(
        EXAMPLES,
        {
            "example_id": [r[0] for r in rows],
            "split": [r[1] for r in rows],
            "query": [r[2] for r in rows],
            "targets": [[{"item_id": "i", "gain": 1.0, "relevant": True}]] * len(rows),
        },
    )


def test_use_test_file_replaces_test_and_drops_shared_keys():
    dataset = Dataset("t", build_table(ITEMS, {"item_id": ["i"], "title": ["x"]}))
    dataset.examples = _examples([("a", "train", "q1"), ("b", "valid", "q2"), ("c", "test", "q3"), ("d", "train", "q4")])
    use_test_file(dataset, _examples([("x", "test", "q1"), ("y", "test", "q9")]), key="query")
    assert dataset.examples["example_id"].to_pylist() == ["b", "d", "x", "y"]
    assert pc.sum(pc.equal(dataset.examples["split"], "test")).as_py() == 2
    assert dataset.notes == {
        "base test examples replaced by --test-file": 1,
        "train/valid examples dropped: query also in --test-file": 1,
    }
