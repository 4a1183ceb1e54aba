"""The whole cascade on the tiny generic shop: build, resume, and every searcher's contract."""

from __future__ import annotations

import numpy as np
import pytest

from onesearch.cascade.build import BuildSettings, build_cascade
from onesearch.cascade.engine import CascadeConfig
from onesearch.cascade.ltr import RankerConfig
from onesearch.cascade.searchers import SEARCHERS, make_searcher
from onesearch.catalog import registry
from onesearch.catalog.context import ContextResolver
from onesearch.catalog.schema import ITEMS, build_table, examples_of
from onesearch.embedding.dual import DualConfig
from onesearch.evidence.items import RowChange
from onesearch.types import SearchRequest, UserContext

SETTINGS = BuildSettings(
    cascade=CascadeConfig(bm25_depth=50, dense_depth=50, history_depth=20, prerank_keep=20),
    dual=DualConfig(batch_size=16, epochs=1),
    max_pairs=160,
    ltr_queries=200,
    prerank=RankerConfig(trees=20, leaves=7, min_data_in_leaf=5),
    rank=RankerConfig(trees=50, leaves=7, min_data_in_leaf=5),
)


@pytest.fixture(scope="module")
def built(tiny_shop, tmp_path_factory):
    dataset = registry.load("generic", tiny_shop, source=tiny_shop)
    directory = tmp_path_factory.mktemp("cascade")
    messages: list[str] = []
    cascade = build_cascade(dataset, directory, SETTINGS, log=messages.append)
    return dataset, directory, cascade, messages


def test_build_writes_every_artifact_and_resumes_without_work(built):
    dataset, directory, _, messages = built
    assert any("fine-tuning" in m for m in messages) and any("LTR" in m for m in messages)
    assert (directory / "bm25").is_dir() and (directory / "dual-encoder" / "model.safetensors").is_file()
    again: list[str] = []
    build_cascade(dataset, directory, SETTINGS, log=again.append)
    assert not any("fine-tuning" in m or "LTR" in m or "indexing" in m for m in again)


@pytest.mark.parametrize("name", sorted(SEARCHERS))
def test_every_searcher_returns_distinct_real_items_best_first(built, name):
    dataset, _, cascade, _ = built
    examples = [e for e in examples_of(dataset.examples) if e.split == "test"][:5]
    requests = ContextResolver(dataset).requests(examples)
    results = make_searcher(name, cascade).search(requests, 30)
    assert len(results) == len(requests)
    catalog = set(dataset.items["item_id"].to_pylist())
    for hits in results:
        ids = [h.item_id for h in hits]
        assert ids and len(ids) <= 30 and len(set(ids)) == len(ids) and set(ids) <= catalog
        scores = [h.score for h in hits]
        assert scores == sorted(scores, reverse=True)


def test_cascade_puts_the_users_brand_first_for_an_exact_query(built):
    dataset, _, cascade, _ = built
    example = next(e for e in examples_of(dataset.examples) if e.split == "test")
    request = ContextResolver(dataset).request(example)
    colour, kind = request.query.split()
    top = make_searcher("cascade", cascade).search([request], 5)[0]
    title = dict(zip(dataset.items["item_id"].to_pylist(), dataset.items["title"].to_pylist()))
    assert colour in title[top[0].item_id] and title[top[0].item_id].endswith(kind)



def test_changed_adds_edits_and_removes_rows_and_keeps_known_vectors(built):
    dataset, _, cascade, _ = built
    kept = dataset.items.slice(1).select(list(ITEMS.names)).cast(ITEMS)
    removed, removed_title = dataset.items["item_id"][0].as_py(), dataset.items["title"][0].as_py()
    added = build_table(ITEMS, {"item_id": ["new"], "title": ["orbit violet silk kimono"], "brand": ["orbit"]})
    changed = cascade.changed(RowChange(np.arange(1, len(dataset.items)), 1), added)
    assert len(changed.items) == len(cascade.items) and removed not in changed.items.row_of
    assert len(cascade.items.row_of) == len(dataset.items)
    same = kept["item_id"][0].as_py()
    np.testing.assert_array_equal(changed.dense.vectors[changed.items.row_of[same]], cascade.dense.vectors[cascade.items.row_of[same]])
    assert changed.popularity[changed.items.row_of["new"]] == 0
    for name in ("bm25", "cascade"):
        searcher = make_searcher(name, changed)
        assert searcher.search([SearchRequest("violet kimono", UserContext(None))], 5)[0][0].item_id == "new", name
        assert removed not in {h.item_id for h in searcher.search([SearchRequest(removed_title, UserContext(None))], 50)[0]}
