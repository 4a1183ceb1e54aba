"""Split tests: no query or future event can cross from an evaluated example into training."""

from __future__ import annotations

from collections import defaultdict

import pyarrow.compute as pc
import pytest

from onesearch.catalog.splits import hash_split
from onesearch.catalog.text import normalize_query


def _by_split(dataset):
    return {split: dataset.examples.filter(pc.equal(dataset.examples["split"], split)) for split in ("train", "valid", "test")}


@pytest.mark.slow
def test_homedepot_no_query_in_two_splits(load_shared):
    parts = _by_split(load_shared("homedepot"))
    queries = {split: set(table["query"].to_pylist()) for split, table in parts.items()}
    assert not queries["train"] & queries["valid"] and not queries["train"] & queries["test"] and not queries["valid"] & queries["test"]
    # queries are stored normalised, and the split is the hash of exactly that text
    sample = sorted(queries["test"])[:50]
    assert all(normalize_query(q) == q for q in sample) and set(hash_split(sample)) == {"test"}


@pytest.mark.slow
def test_instacart_histories_end_before_the_order(load_shared):
    dataset = load_shared("instacart")
    examples = dataset.examples.to_pandas()
    lines = dataset.interactions.to_pandas()
    order_of = lines.drop_duplicates("session_id").set_index("session_id")["seq"]
    ordered = examples["example_id"].str.split("-").str[1].map(order_of)
    assert (examples["history_end"] == ordered).all()  # history = orders with number < this order's number
    last = lines.groupby("user_id")["seq"].max()
    test = examples[examples["split"] == "test"]
    assert (test["history_end"] == test["user_id"].map(last)).all()  # test = each user's last order
    valid = examples[examples["split"] == "valid"]
    assert (valid["history_end"] < valid["user_id"].map(last)).all()
    train = examples[examples["split"] == "train"]
    valid_order = valid.groupby("user_id")["history_end"].first()
    assert (train["history_end"] < train["user_id"].map(valid_order).fillna(10**9)).all()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["amazon-industrial", "amazon-office"])
def test_minionerec_train_rows_are_prefixes_of_evaluated_histories(load_shared, name):
    parts = {split: t.to_pylist() for split, t in _by_split(load_shared(name)).items()}
    histories = defaultdict(list)
    for row in parts["valid"]:
        histories[row["user_id"]].append([e["item_id"] for e in row["history"]])
    valid_users = set(histories)
    for row in parts["test"]:
        if row["user_id"] not in valid_users:
            histories[row["user_id"]].append([e["item_id"] for e in row["history"]])
    for row in parts["train"]:
        sequence = [e["item_id"] for e in row["history"]] + [row["targets"][0]["item_id"]]
        # each train row lies strictly inside one evaluated history, so it ends before that row's target
        assert any(h[: len(sequence)] == sequence and len(h) >= len(sequence) for h in histories[row["user_id"]])


@pytest.mark.slow
def test_amazon_scientific_valid_is_test_minus_its_last_step(load_shared):
    parts = {split: t.to_pylist() for split, t in _by_split(load_shared("amazon-scientific")).items()}
    valid = {row["user_id"]: row for row in parts["valid"]}
    for row in parts["test"]:
        history = [e["item_id"] for e in row["history"]]
        before = valid[row["user_id"]]
        assert [e["item_id"] for e in before["history"]] + [before["targets"][0]["item_id"]] == history
    # the query is the target's category path; only the 44 items without one leave it empty
    dataset = load_shared("amazon-scientific")
    uncategorised = {i for i, c in zip(dataset.items["item_id"].to_pylist(), dataset.items["category"].to_pylist()) if not c}
    assert len(uncategorised) == 44
    assert all((row["query"] is None) == (row["targets"][0]["item_id"] in uncategorised) for row in parts["test"])
