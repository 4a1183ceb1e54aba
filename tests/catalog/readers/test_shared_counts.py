"""Every reader on the real shared files, with counts asserted (numbers from the data README
and from the files themselves)."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest

from onesearch.catalog.store import split_counts

# name -> (items, users, interactions, queries, {split: examples})
EXPECTED = {
    "homedepot": (54_667, 0, 0, 0, {"train": 7_604, "valid": 914, "test": 943}),
    "instacart": (49_688, 0, 119_871, 0, {"train": 78_113, "valid": 3_707, "test": 3_723}),
    "amazon-scientific": (1_585, 2_928, 0, 0, {"train": 8_869, "valid": 2_366, "test": 2_366}),
    "amazon-industrial": (3_686, 0, 0, 0, {"train": 11_588, "valid": 1_233, "test": 3_605}),
    "amazon-office": (3_459, 0, 0, 0, {"train": 11_602, "valid": 1_115, "test": 3_950}),
    "bestbuy-xbox": (437, 0, 0, 0, {"train": 2_933, "valid": 372, "test": 355}),
    "kuaisearch": (200, 200, 26_432, 0, {"train": 0, "valid": 0, "test": 0}),
    "jdsearch": (409, 0, 485, 0, {"train": 0, "valid": 0, "test": 0}),
    "bestbuy": (46_156, 0, 1_758_636, 0, {"train": 0, "valid": 0, "test": 0}),
    "flipkart": (1_002, 0, 0, 0, {"train": 0, "valid": 0, "test": 0}),
    "multicpr": (0, 0, 0, 101_000, {"train": 0, "valid": 0, "test": 0}),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reader_counts(load_shared, name):
    dataset = load_shared(name)
    items, users, interactions, queries, splits = EXPECTED[name]
    assert (dataset.items.num_rows, dataset.users.num_rows, dataset.interactions.num_rows, dataset.queries.num_rows) == (
        items, users, interactions, queries,
    )  # fmt: skip
    assert split_counts(dataset) == splits


@pytest.mark.slow
def test_data_policies_are_counted(load_shared):
    # README: 2,035 UPCs appear twice (a few more than twice: 2,038 extra rows); 96% of session docs join
    assert load_shared("bestbuy").notes["duplicate UPC rows dropped (first kept)"] == 2_038
    # README: 20 clicked skus (282 rows) have no product row; one of those rows is the repaired 9.99917E+15
    assert load_shared("bestbuy-xbox").notes["clicks.csv.gz: clicks dropped, sku not in the catalog"] == 281
    assert load_shared("bestbuy").notes["session rows dropped: doc not in catalog after zero-fill"] == 65_000
    # README: 15 of 230 JD history items are missing from the product file
    assert load_shared("jdsearch").notes == {"events dropped: item missing from the product file": 15}
    assert "order lines in aisle 'missing' (no example)" in load_shared("instacart").notes


@pytest.mark.slow
def test_homedepot_labels_and_text(load_shared):
    dataset = load_shared("homedepot")
    no_relevant = sum(not any(t["relevant"] for t in targets) for targets in dataset.examples["targets"].to_pylist())
    assert no_relevant == 586  # the data README: 586 queries have no pair >= 2.33
    titles = dataset.items["title"].to_pylist()
    assert not any("\u00e5\u00a1" in t or "&#39;" in t for t in titles)
    assert any("90\u00b0" in t for t in titles)


@pytest.mark.slow
def test_chinese_text_round_trips(load_shared, shared_data):
    import json

    raw = [json.loads(line)["item_title"] for line in (shared_data / "kuaisearch_demo/items.jsonl").read_text("utf-8").splitlines()]
    assert load_shared("kuaisearch").items["title"].to_pylist() == raw
    assert load_shared("multicpr").queries["text"].to_pylist()[:3] == ["减速器链条", "tasco望远镜", "焦糖色美背薄款"]


@pytest.mark.slow
def test_catalog_fields(load_shared):
    insta = load_shared("instacart").items.to_pylist()[0]
    assert insta["title"] == "Chocolate Sandwich Cookies" and insta["category"] == ["snacks", "cookies cakes"]
    flip = load_shared("flipkart").items.to_pylist()[0]
    assert flip["price"] == 499.0 and ("Color", "Red") in flip["attributes"] and flip["category"][0] == "footwear"
    sci = load_shared("amazon-scientific").items.to_pylist()[0]
    assert (sci["brand"], sci["category"][0][:23]) == ("Gorilla", "Industrial & Scientific")
    ind = load_shared("amazon-industrial").items.to_pylist()[0]
    assert ind["attributes"] == [("ref_sid", "<a_236><b_231><c_226>")] and ind["brand"] == "Sealed Unit Parts Co., Inc."
    assert pc.count_distinct(load_shared("kuaisearch").interactions["type"]).as_py() == 4
