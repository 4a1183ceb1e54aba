"""The bestbuy-xbox task on the shared click log: real names, repaired skus, click gains, and
the click-log test file."""

from __future__ import annotations

import pytest

from onesearch.catalog import registry
from onesearch.catalog.schema import examples_of
from onesearch.errors import DataError


@pytest.mark.slow
def test_examples_are_normalised_queries_with_click_gains(load_shared):
    dataset = load_shared("bestbuy-xbox")
    titles = dict(zip(dataset.items["item_id"].to_pylist(), dataset.items["title"].to_pylist()))
    assert "9999169100050027" in titles  # the repaired 9.99917E+15
    examples = {e.query: e for e in examples_of(dataset.examples)}
    assert all(q == " ".join(q.casefold().split()) for q in examples)
    halo = examples["halo reach"]
    gains = [t.gain for t in halo.targets]
    assert gains == sorted(gains, reverse=True) and gains[0] > 1 and all(t.relevant for t in halo.targets)
    assert titles[halo.targets[0].item_id].lower().startswith("halo")


@pytest.mark.slow
def test_a_click_log_becomes_the_test_split(shared_data, tmp_path):
    path = tmp_path / "clicks.csv"
    path.write_text("user,sku,category,query,click_time,query_time\nu1,2670133,abcat0701002,Skyrum,00:01.0,00:00.0\n")
    dataset = registry.load("bestbuy-xbox", shared_data, test_file=path)
    test = [e for e in examples_of(dataset.examples) if e.split == "test"]
    assert [(e.query, [t.item_id for t in e.targets]) for e in test] == [("skyrum", ["2670133"])]
    path.write_text("user,query\nu1,halo\n")
    with pytest.raises(DataError, match="missing column"):
        registry.load("bestbuy-xbox", shared_data, test_file=path)
