"""The look-ahead plan: cheap per-item evidence for one request, before any decoding.

Contract: ``Planner(items, bm25, popularity)`` answers ``plan(request)`` with a ``Plan``:
the rows of the items that have request-specific evidence — the lexical plan (BM25 top
``depth``, optionally also a typo-robust character n-gram BM25 top ``depth``), every item of
the user's own history and, given train ``Transitions``, the top ``depth`` items that followed
the user's last items (and, with ``preceders``, the top ``depth`` that came before them; their
columns are 0 without it) and, given train ``CoBuyers``, the top ``depth`` items of the lexical
matches (of every item for an empty query) that other users bought with the user's items — and
one row of ``EVIDENCE`` features for each. Every other item's
request evidence is zero. ``static()`` gives the request-independent ``STATIC`` features of every
item (train popularity, text length); its ``exclude`` drops one train example's own targets from popularity
(leave-one-out), so train-time evidence looks like test-time evidence. Features are scaled to
about [0, 1] (logs of counts), so a model can read them raw. ``changed(items, change, popularity,
transitions, co_buyers)`` is the planner of a changed catalog (``RowChange``), its lexical indexes derived
from this one's rather than rebuilt.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from onesearch.evidence.bm25 import Bm25Index, top_positive
from onesearch.evidence.cobuy import CoBuyers
from onesearch.evidence.items import ItemTable, RowChange
from onesearch.evidence.postings import Postings
from onesearch.evidence.history import recent_rows
from onesearch.evidence.profile import GAP_LOG, UserProfile, lookup, lookup_pairs
from onesearch.evidence.ranks import log_ranks, ranks_in, reciprocal_ranks
from onesearch.evidence.transitions import WINDOW, Transitions
from onesearch.types import InteractionType, SearchRequest

__all__ = ["CO_BUY", "EVIDENCE", "LEXICAL", "LOG_RANKS", "PAIRS", "PRECEDERS", "SHAPE", "STATIC", "USER", "Plan", "Planner"]

LEXICAL = ("bm25_share", "bm25_log", "bm25_reciprocal_rank", "bm25_log_rank", "term_coverage", "bigram_coverage", "phrase_match", "ngram_share",
           "ngram_reciprocal_rank", "ngram_log_rank", "query_terms")
PRECEDERS = ("prev_item", "prev_item_rank")  # what came before the user's last items, a recipe switch of the model
USER = ("user_count", "user_recency", "user_click", "user_cart", "user_order", "user_leaf_share", "user_brand_share", "next_item", "next_item_rank", *PRECEDERS,
        "user_gap", "user_rate", "user_history", "co_buy", "co_buy_rank", "buyers")
CO_BUY = ("co_buy", "co_buy_rank", "buyers")  # what other users bought with the user's items, a recipe switch of the model
SHAPE = ("query_terms", "user_gap", "user_rate", "user_history")  # the request's shape (query and history length) and habit columns, a recipe switch of the model
EVIDENCE = (*LEXICAL, *USER)
PAIRS = ("bigram_coverage",)  # word-pair evidence, a recipe switch of the model
LOG_RANKS = ("bm25_log_rank", "ngram_log_rank")  # log-scaled ranks, a recipe switch of the model
STATIC = ("log_popularity", "item_length")
QUERY_TERMS = 10  # query lengths (in analysed terms) at or above this read as 1
_TYPES = (InteractionType.CLICK, InteractionType.CART, InteractionType.ORDER)


@dataclass
class Plan:
    """Request evidence: ``rows`` (distinct item rows) and ``features`` (``len(rows) x len(EVIDENCE)``)."""

    rows: np.ndarray
    features: np.ndarray


class Planner:
    """Builds the plan of a request over one catalog's rows."""

    def __init__(self, items: ItemTable, bm25: Bm25Index, popularity: np.ndarray, depth: int = 300, ngrams: Bm25Index | None = None,
                 transitions: Transitions | None = None, preceders: bool = False, co_buyers: CoBuyers | None = None) -> None:
        self.items = items
        self.transitions = transitions
        self.co_buyers = co_buyers
        self.preceders = preceders
        self.bm25 = bm25
        self.ngrams = ngrams
        self.depth = depth
        self._terms, self._bigrams, self._lowered = _lexicon(items, bm25)
        self._statics(popularity)

    def prepare_changes(self) -> None:
        """Measure now what the first ``changed`` would: the lexical indexes' mean document
        lengths, where an older model folder lacks them."""
        _with_mean_length(self.bm25, self.items)
        if self.ngrams is not None:
            _with_mean_length(self.ngrams, self.items)

    def changed(self, items: ItemTable, change: RowChange, popularity: np.ndarray, transitions: Transitions | None, co_buyers: CoBuyers | None) -> Planner:
        """This (base) planner over ``items``, its catalog changed by ``change``, with the changed
        catalog's ``popularity``, ``transitions`` and ``co_buyers`` (module docstring)."""
        tail = items.texts[len(change.kept) :]
        planner = copy.copy(self)
        planner.items, planner.transitions, planner.co_buyers = items, transitions, co_buyers
        planner.bm25 = _with_mean_length(self.bm25, self.items).changed(change, tail, self.items.texts)
        planner.ngrams = _with_mean_length(self.ngrams, self.items).changed(change, tail, self.items.texts) if self.ngrams is not None else None
        planner._terms = self._terms.changed(change, items.terms[len(change.kept) :])
        planner._bigrams = self._bigrams.changed(change, [_bigrams(self.bm25.tokenizer(text)) for text in tail])
        planner._lowered = change.rows(self._lowered, [text.lower() for text in tail])
        planner._statics(popularity)
        return planner

    def _statics(self, popularity: np.ndarray) -> None:
        """Popularity and the item-length scale of this planner's items."""
        self.popularity = np.asarray(popularity, dtype=np.float32)
        self._log_max = float(np.log1p(self.popularity.max())) if len(self.popularity) and self.popularity.max() > 0 else 1.0
        lengths = np.log1p(np.array([len(t) for t in self.items.terms], dtype=np.float32))
        self._length = lengths / max(float(lengths.max()), 1.0) if len(lengths) else lengths

    def static(self, rows: np.ndarray | None = None, exclude: frozenset[int] = frozenset()) -> np.ndarray:
        """``len(rows) x len(STATIC)`` (every item when ``rows`` is None): log train popularity
        scaled to [0, 1] (leave-one-out for the ``exclude`` rows) and log item length in terms."""
        rows = np.arange(len(self.popularity)) if rows is None else np.asarray(rows, dtype=np.int64)
        popularity = self.popularity[rows] - np.isin(rows, np.fromiter(exclude, dtype=np.int64, count=len(exclude))).astype(np.float32)
        return np.stack([np.log1p(np.maximum(popularity, 0.0)) / self._log_max, self._length[rows]], axis=1).astype(np.float32)

    def plan(self, request: SearchRequest, exclude: Collection[tuple[int, int]] = (), extra: np.ndarray | None = None) -> Plan:
        """The request's evidence rows and features (see module docstring); ``exclude`` holds a
        train example's own (last item, target) pairs, left out of the next-item counts; ``extra``
        rows (e.g. another channel's top items) join the plan with the same evidence columns."""
        profile = UserProfile.of(request, self.items)
        scores = self.bm25.scores(request.query) if request.query else np.zeros(len(self.items), dtype=np.float32)
        lexical = top_positive(scores, self.depth)
        ngram_scores, ngram_rows = self._ngrams(request.query)
        last = recent_rows(request.user.history, self.items.row_of, WINDOW) if self.transitions is not None else []
        after = self._neighbours(last, exclude, before=False)
        before = self._neighbours(last, exclude, before=True)
        touched = np.fromiter(profile.items, dtype=np.int64, count=len(profile.items))
        more = np.zeros(0, dtype=np.int64) if extra is None else np.asarray(extra, dtype=np.int64)
        co_buy = self._co_buy(request, touched, scores)
        co_top = co_buy[1] if co_buy is not None else np.zeros(0, dtype=np.int64)
        rows = np.unique(np.concatenate([lexical, ngram_rows, touched, after[2], before[2], co_top, more])).astype(np.int64)
        columns = {**self._lexical(request.query, rows, scores, lexical), **self._ngram_columns(rows, ngram_scores, ngram_rows)}
        columns.update(self._user(profile, rows))
        columns["next_item"], columns["next_item_rank"] = _neighbour_columns(rows, *after)
        columns["prev_item"], columns["prev_item_rank"] = _neighbour_columns(rows, *before)
        columns.update(self._co_buy_columns(rows, co_buy, request.user.user_id))
        return Plan(rows, np.stack([np.asarray(columns[name], dtype=np.float32) for name in EVIDENCE], axis=1).reshape(len(rows), len(EVIDENCE)))

    def _neighbours(self, last: list[int], exclude: Collection[tuple[int, int]], before: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, scores, the top ``depth`` rows best first) of the items that followed the user's
        ``last`` items in train (``before``: that came before them; none unless ``preceders``)."""
        if self.transitions is None or (before and not self.preceders):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64), np.zeros(0, dtype=np.int64)
        rows, scores = (self.transitions.preceders if before else self.transitions.followers)(last, exclude)
        return rows, scores, rows[np.argsort(-scores, kind="stable")[: self.depth]]

    def _co_buy(self, request: SearchRequest, touched: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(co-buy score of every item, the top ``depth`` co-bought items of the lexical matches —
        of every item for an empty query); None without co-buyers."""
        if self.co_buyers is None:
            return None
        co = self.co_buyers.scores(touched, request.user.user_id)
        return co, top_positive(co * (scores > 0) if request.query else co, self.depth)

    def _co_buy_columns(self, rows: np.ndarray, found: tuple[np.ndarray, np.ndarray] | None, user_id: str | None) -> dict[str, np.ndarray]:
        """``CO_BUY``: the co-buy score as a share of the best match's, its reciprocal rank among the
        top matches, and the log count of other buyers over that of all train users."""
        if found is None or self.co_buyers is None:
            return {name: np.zeros(len(rows), dtype=np.float32) for name in CO_BUY}
        co, top = found
        best = float(co[top[0]]) if len(top) else 1.0
        return {"co_buy": co[rows] / max(best, 1.0), "co_buy_rank": reciprocal_ranks(ranks_in(rows, top)),
                "buyers": np.log1p(self.co_buyers.buyers(rows, user_id)) / np.log1p(max(len(self.co_buyers.users), 1))}

    def _ngrams(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        if self.ngrams is None or not query:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        scores = self.ngrams.scores(query)
        return scores, top_positive(scores, self.depth)

    def _lexical(self, query: str, rows: np.ndarray, scores: np.ndarray, ranked: np.ndarray) -> dict[str, np.ndarray]:
        top = float(scores[ranked[0]]) if len(ranked) else 1.0
        tokens = self.bm25.tokenizer(query)
        terms, pairs = frozenset(tokens), _bigrams(tokens)
        lowered = query.lower().strip()
        rank = ranks_in(rows, ranked)
        return {
            "bm25_log_rank": log_ranks(rank, self.depth),
            "bigram_coverage": self._bigrams.count(pairs, rows) / max(1, len(pairs)),
            "bm25_share": scores[rows] / max(top, 1e-6),
            "bm25_log": np.log1p(scores[rows]) / 4.0,
            "bm25_reciprocal_rank": reciprocal_ranks(rank),
            "term_coverage": self._terms.count(terms, rows) / max(1, len(terms)),
            "phrase_match": np.array([bool(lowered) and lowered in self._lowered[r] for r in rows], dtype=np.float32),
            "query_terms": np.full(len(rows), min(len(tokens), QUERY_TERMS) / QUERY_TERMS, dtype=np.float32),
        }

    def _ngram_columns(self, rows: np.ndarray, scores: np.ndarray, ranked: np.ndarray) -> dict[str, np.ndarray]:
        if not len(ranked):
            return {"ngram_share": np.zeros(len(rows)), "ngram_reciprocal_rank": np.zeros(len(rows)), "ngram_log_rank": np.zeros(len(rows))}
        rank = ranks_in(rows, ranked)
        return {"ngram_share": scores[rows] / max(float(scores[ranked[0]]), 1e-6), "ngram_reciprocal_rank": reciprocal_ranks(rank),
                "ngram_log_rank": log_ranks(rank, self.depth)}

    def _user(self, profile: UserProfile, rows: np.ndarray) -> dict[str, np.ndarray]:
        if not profile.length:
            return {name: np.zeros(len(rows), dtype=np.float32) for name in USER if name.startswith("user_")}

        def counts(counter: dict[int, int]) -> np.ndarray:
            return np.log1p(lookup(counter, rows).astype(np.float32)) / 3.0

        length = max(1, profile.length)
        return {
            "user_count": counts(profile.items),
            "user_recency": profile.recencies(rows),
            **{f"user_{kind.value}": counts(profile.by_type.get(kind, {})) for kind in _TYPES},
            "user_leaf_share": lookup(profile.leaves, self.items.leaf[rows]).astype(np.float32) / length,
            "user_brand_share": lookup(profile.brands, self.items.brand[rows]).astype(np.float32) / length,
            "user_gap": profile.gaps(rows),
            "user_rate": profile.rates(rows),
            "user_history": np.full(len(rows), np.log1p(profile.length) / GAP_LOG, dtype=np.float32),
        }


def _neighbour_columns(rows: np.ndarray, neighbours: np.ndarray, scores: np.ndarray, top: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(score share of the best, reciprocal rank among the ``top``) of each of ``rows`` (0 where absent)."""
    best = float(scores.max()) if len(scores) else 1.0
    return (lookup_pairs(neighbours, scores, rows) / best).astype(np.float32), reciprocal_ranks(ranks_in(rows, top))


def _with_mean_length(index: Bm25Index, items: ItemTable) -> Bm25Index:
    """``index`` knowing its documents' mean length: an index saved without it (an older model
    folder) measures it over ``items`` once per item table and language."""
    if index.mean_length is None:
        key = ("mean_length", index.tokenizer.language)
        if key not in items.derived:
            items.derived[key] = index.measure_mean_length(items.texts)
        index.mean_length = items.derived[key]  # type: ignore[assignment]
    return index


def _lexicon(items: ItemTable, bm25: Bm25Index) -> tuple[Postings, Postings, list[str]]:
    """The items' term and word-pair postings and lower-cased texts, built once per item table
    and analyser language (another model over the same rows shares them)."""
    key = ("lexicon", bm25.tokenizer.language)
    if key not in items.derived:
        items.derived[key] = (Postings.build(items.terms), Postings.build([_bigrams(bm25.tokenizer(text)) for text in items.texts]), [text.lower() for text in items.texts])
    return items.derived[key]  # type: ignore[return-value]


def _bigrams(tokens: list[str]) -> frozenset[tuple[str, str]]:
    """Adjacent token pairs of a token sequence."""
    return frozenset(zip(tokens, tokens[1:]))
