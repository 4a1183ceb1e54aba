"""Each cascade stage as a ``Searcher``: ``bm25``, ``dense``, ``fusion`` and ``cascade``.

Contract: every searcher answers ``search(requests, k)`` with at most ``k`` distinct catalog
items per request, best first; ``bm25`` returns only items sharing a term with the query. The
cascade runs everything after its query encoder under the shared batch-1 thread policy
(``threads.for_batch``), as the generative searcher does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from onesearch.cascade.engine import Cascade
from onesearch.cascade.fusion import reciprocal_rank_fusion
from onesearch.evidence.bm25 import Bm25Index, top_positive
from onesearch.evidence.items import ItemTable
from onesearch.threads import for_batch
from onesearch.types import Hit, SearchRequest, Searcher

__all__ = ["SEARCHERS", "Bm25Searcher", "CascadeSearcher", "DenseSearcher", "FusionSearcher", "make_searcher"]


class _Stage:
    """A searcher over one built ``Cascade``."""

    name = ""

    def __init__(self, cascade: Cascade) -> None:
        self.cascade = cascade


class Bm25Searcher:
    """Lexical recall alone (needs only the catalog's rows and BM25 index: it serves first)."""

    name = "bm25"

    def __init__(self, items: ItemTable, bm25: Bm25Index) -> None:
        self.items = items
        self.bm25 = bm25

    def search(self, requests: Sequence[SearchRequest], k: int) -> list[list[Hit]]:
        out = []
        for request in requests:
            scores = self.bm25.scores(request.query)
            out.append([Hit(self.items.ids[r], float(scores[r])) for r in top_positive(scores, k)])
        return out


class DenseSearcher(_Stage):
    """Dense ANN recall alone (the cascade's encoder)."""

    name = "dense"

    def search(self, requests: Sequence[SearchRequest], k: int) -> list[list[Hit]]:
        scores, rows = self.cascade.dense.search(self.cascade.encode_queries(requests), k)
        return [[Hit(self.cascade.items.ids[r], float(s)) for s, r in zip(s_, r_) if r >= 0] for s_, r_ in zip(scores, rows)]


class FusionSearcher(_Stage):
    """Reciprocal rank fusion of the BM25 and dense lists."""

    name = "fusion"

    def search(self, requests: Sequence[SearchRequest], k: int) -> list[list[Hit]]:
        config = self.cascade.config
        _, dense_rows = self.cascade.dense.search(self.cascade.encode_queries(requests), max(k, config.dense_depth))
        out = []
        for request, dense in zip(requests, dense_rows):
            lexical = top_positive(self.cascade.bm25.scores(request.query), max(k, config.bm25_depth))
            rows, scores = reciprocal_rank_fusion([lexical, dense])
            out.append([Hit(self.cascade.items.ids[r], float(s)) for r, s in zip(rows[:k], scores[:k])])
        return out


class CascadeSearcher(_Stage):
    """Recall (BM25 + dense + history) -> pre-rank -> LambdaMART rank."""

    name = "cascade"

    def search(self, requests: Sequence[SearchRequest], k: int) -> list[list[Hit]]:
        vectors = self.cascade.encode_queries(requests)
        out = []
        with for_batch(len(requests)):
            for request, channels in zip(requests, self.cascade.recall(requests, vectors)):
                order, scores = self.cascade.cascade_order(self.cascade.features(request, channels))
                rows = channels.rows[order[:k]]
                out.append([Hit(self.cascade.items.ids[r], float(s)) for r, s in zip(rows, scores[:k])])
        return out


SEARCHERS: dict[str, Callable[[Cascade], Searcher]] = {
    "bm25": lambda cascade: Bm25Searcher(cascade.items, cascade.bm25),
    **{cls.name: cls for cls in (DenseSearcher, FusionSearcher, CascadeSearcher)},
}


def make_searcher(name: str, cascade: Cascade) -> Searcher:
    """The searcher called ``name`` over ``cascade``."""
    if name not in SEARCHERS:
        raise ValueError(f"unknown searcher {name!r}: expected one of {', '.join(SEARCHERS)}")
    return SEARCHERS[name](cascade)
