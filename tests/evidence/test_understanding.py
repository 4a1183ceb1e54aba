"""The shared query-understanding step: cleaning, spelling, and one step for every searcher."""

from __future__ import annotations

import pyarrow as pa

from onesearch.catalog.schema import ITEMS, build_table
from onesearch.evidence.understanding import QueryUnderstanding, Understood
from onesearch.types import Hit, SearchRequest


def _items() -> pa.Table:
    return build_table(ITEMS, {"item_id": ["1", "2"], "title": ["Cordless Drill Driver", "Garden Hose Reel"], "brand": ["Makita", None],
                               "category": [["tools", "drills"], None]})


class _Echo:
    name = "echo"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def search(self, requests, k):
        self.seen += [r.query for r in requests]
        return [[Hit("1", 1.0)] for _ in requests]


def test_misspelled_words_are_corrected_and_known_ones_kept():
    step = QueryUnderstanding.for_items(_items())
    assert step("  cordles  drill ") == "cordless drill"
    assert step("makitta hose") == "makita hose"
    assert step("Drill 18v") == "Drill 18v"


def test_without_spelling_the_text_is_only_cleaned():
    step = QueryUnderstanding.for_items(_items(), spelling=False)
    assert not step.spelling and step("cordles   drill") == "cordles drill"


def test_every_wrapped_searcher_sees_the_understood_query():
    inner = _Echo()
    searcher = Understood(inner, QueryUnderstanding.for_items(_items()))
    assert searcher.name == "echo"
    searcher.search([SearchRequest("gardn hose")], 1)
    assert inner.seen == ["garden hose"]
