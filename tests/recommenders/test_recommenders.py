"""The sequential baselines on a catalog whose users always buy the next item of a cycle."""

from __future__ import annotations

import random

import pytest

from onesearch.errors import DataError
from onesearch.recommenders.counts import NextItemSearcher, PopularSearcher
from onesearch.recommenders.sasrec import SasrecConfig, SasrecSearcher, train_sasrec
from onesearch.recommenders.sequences import Sequences, TrainPair
from onesearch.types import HistoryEvent, InteractionType, SearchRequest, UserContext

ITEMS = [f"i{n}" for n in range(12)]


def _cycle_pairs(count: int, seed: int = 0) -> list[TrainPair]:
    """Histories walking the cycle i0 -> i1 -> ... -> i11 -> i0 from a random start."""
    rng = random.Random(seed)
    pairs = []
    for _ in range(count):
        start, length = rng.randrange(12), rng.randint(1, 6)
        rows = [(start + j) % 12 for j in range(length + 1)]
        pairs.append(TrainPair(rows[:-1], [rows[-1]]))
    return pairs


def _request(*items: str) -> SearchRequest:
    return SearchRequest("", UserContext("u", {}, tuple(HistoryEvent(i, InteractionType.ORDER) for i in items)))


def test_popularity_ranks_the_most_frequent_targets_first():
    sequences = Sequences(ITEMS)
    searcher = PopularSearcher(sequences, [TrainPair([], [3]), TrainPair([0], [3]), TrainPair([1], [5])])
    hits = searcher.search([_request(), _request("i1")], 3)
    assert [h.item_id for h in hits[0]][:2] == ["i3", "i5"] and hits[0] == hits[1]


def test_next_item_follows_the_last_item_then_fills_by_popularity():
    sequences = Sequences(ITEMS)
    searcher = NextItemSearcher(sequences, _cycle_pairs(300))
    hits = searcher.search([_request("i2", "i4")], 12)[0]
    assert hits[0].item_id == "i5" and len({h.item_id for h in hits}) == 12
    popular = PopularSearcher(sequences, _cycle_pairs(300)).search([_request()], 5)[0]
    assert [h.item_id for h in searcher.search([_request()], 5)[0]] == [h.item_id for h in popular]


def test_sasrec_learns_the_cycle_keeps_its_best_epoch_and_loads(tmp_path):
    sequences = Sequences(ITEMS)
    config = SasrecConfig(dim=16, epochs=30, patience=30, batch_size=32, learning_rate=5e-3, dropout=0.0)
    summary = train_sasrec(sequences, _cycle_pairs(400), _cycle_pairs(50, seed=1), tmp_path / "sasrec", config, log=lambda _: None)
    assert summary["valid_hr@10"] == 1.0 and summary["best_epoch"] >= 1
    popular = PopularSearcher(sequences, _cycle_pairs(400))
    searcher = SasrecSearcher.load(tmp_path / "sasrec", sequences, popular)
    top = [hits[0].item_id for hits in searcher.search([_request("i6", "i7"), _request("i10", "i11")], 3)]
    assert top == ["i8", "i0"]
    assert searcher.search([_request()], 4)[0] == popular.search([_request()], 4)[0]  # no history: popularity


def test_a_task_without_histories_is_one_clear_error(tiny_shop, tmp_path):
    import pyarrow.compute as pc

    from onesearch.catalog import registry
    from onesearch.recommenders.build import Recommenders

    dataset = registry.load("generic", tmp_path, source=tiny_shop)
    dataset.examples = dataset.examples.filter(pc.equal(dataset.examples["split"], "test"))
    with pytest.raises(DataError, match="no train example with a history"):
        Recommenders(dataset, tmp_path / "cache").make("sasrec")
