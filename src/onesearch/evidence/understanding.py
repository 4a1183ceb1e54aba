"""Query understanding: the one step in front of every searcher (lexical, dense, cascade,
generative, recommenders; in ``onesearch eval``, ``onesearch search`` and the service).

Contract: ``QueryUnderstanding.for_items(items, spelling)`` is built from the catalog's item
texts (title, brand, category path); calling it on a query returns the query every searcher
sees: cleaned (HTML entities unescaped, known mojibake repaired, white space collapsed:
``catalog.text.clean_text``) and, with
``spelling``, its unknown words corrected against the catalog's vocabulary (``Speller``). A query
of known words comes back cleaned and otherwise unchanged. ``Understood(searcher, step)`` is a
``types.Searcher`` that runs the step and then the searcher, so the step's cost is counted in
every searcher's time alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pyarrow as pa

from onesearch.catalog.text import clean_text, item_text
from onesearch.evidence.spelling import Speller
from onesearch.types import Hit, SearchRequest, Searcher

__all__ = ["QueryUnderstanding", "Understood"]


class QueryUnderstanding:
    """Cleaning plus optional spelling correction of query text."""

    def __init__(self, speller: Speller | None) -> None:
        self.speller = speller

    @classmethod
    def for_items(cls, items: pa.Table, spelling: bool = True) -> QueryUnderstanding:
        """The step for the catalog ``items`` (``spelling=False``: cleaning only)."""
        return cls(Speller.from_texts(_texts(items))) if spelling else cls(None)

    def extended(self, items: pa.Table) -> QueryUnderstanding:
        """This step with the words of ``items`` (new or edited ones) known too."""
        return QueryUnderstanding(self.speller.extended(_texts(items))) if self.speller is not None and len(items) else self

    @property
    def spelling(self) -> bool:
        return self.speller is not None

    def __call__(self, query: str) -> str:
        cleaned = clean_text(query) or ""
        return self.speller.correct(cleaned) if self.speller is not None and cleaned else cleaned

    def requests(self, requests: Sequence[SearchRequest]) -> list[SearchRequest]:
        """``requests`` with their queries understood."""
        return [replace(r, query=self(r.query)) for r in requests]


def _texts(items: pa.Table) -> list[str]:
    columns = items.select(["title", "brand", "category"]).to_pydict()
    return list(map(item_text, columns["title"], columns["brand"], columns["category"]))


class Understood:
    """A searcher behind the shared query-understanding step; it keeps the searcher's name."""

    def __init__(self, searcher: Searcher, step: QueryUnderstanding) -> None:
        self.searcher, self.step, self.name = searcher, step, searcher.name

    def search(self, requests: Sequence[SearchRequest], k: int) -> list[list[Hit]]:
        return self.searcher.search(self.step.requests(requests), k)
