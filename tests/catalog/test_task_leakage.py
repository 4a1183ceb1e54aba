"""Split tests: no query or future event can cross from an evaluated example into training."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest

from onesearch.catalog.schema import examples_of
from onesearch.catalog.sequences import SequenceRow, leak_free_prefixes, whole_sequences
from onesearch.catalog.splits import hash_split
from onesearch.evaluation.leakage import audit
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


def test_leak_free_prefixes_stop_before_any_evaluated_item():
    # sliding windows of one user: valid asks for c, test for d then e (its history holds d)
    evaluated = [SequenceRow("u", ("a", "b"), "c"), SequenceRow("u", ("a", "b", "c"), "d"), SequenceRow("u", ("b", "c", "d"), "e"),
                 SequenceRow("w", ("x", "y", "z"), "q")]
    rows = leak_free_prefixes(evaluated)
    assert {(r.user_id, r.history, r.target) for r in rows} == {("u", ("a",), "b"), ("w", ("x",), "y"), ("w", ("x", "y"), "z")}
    # an evaluated item that recurs early in the first history cuts it there
    assert leak_free_prefixes([SequenceRow("u", ("a", "d", "b"), "c"), SequenceRow("u", ("a", "d", "b", "c"), "d")]) == []


def test_whole_sequences_are_every_step_of_a_training_user():
    rows = whole_sequences([SequenceRow("t", ("a",), "b"), SequenceRow("t", ("a", "b"), "c")])
    assert [(r.history, r.target) for r in rows] == [(("a",), "b"), (("a", "b"), "c")]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["amazon-industrial", "amazon-office"])
def test_minionerec_valid_users_are_test_users_and_valid_only_users_train(load_shared, name):
    parts = _by_split(load_shared(name))
    tested = set(parts["test"]["user_id"].to_pylist())
    assert set(parts["valid"]["user_id"].to_pylist()) <= tested
    assert set(parts["train"]["user_id"].to_pylist()) - tested  # the valid-only users are training users


SHIPPED_TASKS = ["homedepot", "instacart", "amazon-scientific", "amazon-industrial", "amazon-office", "bestbuy-xbox"]


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED_TASKS)
def test_every_shipped_task_audits_clean_on_valid_and_test(load_shared, name):
    dataset = load_shared(name)
    examples = list(examples_of(dataset.examples))
    train = [e for e in examples if e.split == "train"]
    for split in ("valid", "test"):
        result = audit(train, [e for e in examples if e.split == split], dataset.meta.get("split_by") == "query")
        assert result.evaluated and result.leaks == 0, result.line()


def test_the_generic_shop_audits_clean(tiny_shop, tmp_path):
    from onesearch.catalog import registry

    examples = list(examples_of(registry.load("generic", tmp_path, source=tiny_shop).examples))
    train = [e for e in examples if e.split == "train"]
    assert all(audit(train, [e for e in examples if e.split == split], False).leaks == 0 for split in ("valid", "test"))


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
