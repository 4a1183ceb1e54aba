"""The cascade's stages over one catalog: recall channels, fusion, pre-rank and rank.

Contract: ``Cascade`` owns the indexes and models of one catalog and answers batches of
``SearchRequest``: ``recall`` unions BM25 top-n, dense top-n and (for users with a history) the
user's own past items, fused by reciprocal rank; ``prerank`` keeps the best ``prerank_keep`` by a
small LambdaMART over cheap features; ``rank`` re-orders those with the full LambdaMART and
appends the remaining candidates in pre-rank order, so deep cutoffs still see recall's reach.
``changed(change, tail_items, known)`` is the same cascade over a changed catalog (items added,
edited or removed; ``RowChange``): rows and BM25 are derived from this base cascade's
(``Bm25Index.changed``), not rebuilt, the kept rows keep their vectors and the tail's texts are
encoded unless ``known`` has them (``tail_vectors`` of the previous change); the trained rankers
and train popularity (by item id) carry over.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa

from onesearch.evidence.bm25 import Bm25Index, top_positive
from onesearch.evidence.items import ItemTable, RowChange
from onesearch.cascade.dense import DenseIndex
from onesearch.cascade.features import FEATURES, PRERANK_FEATURES, Channels, candidate_features
from onesearch.evidence.profile import UserProfile
from onesearch.cascade.fusion import reciprocal_rank_fusion
from onesearch.embedding.encoder import TextEncoder
from onesearch.types import SearchRequest

__all__ = ["PRERANK_COLUMNS", "Cascade", "CascadeConfig"]

PRERANK_COLUMNS = [FEATURES.index(name) for name in PRERANK_FEATURES]


@dataclass(frozen=True)
class CascadeConfig:
    """Depths of each stage; saved with the cascade artifacts."""

    bm25_depth: int = 300
    dense_depth: int = 300
    history_depth: int = 100
    prerank_keep: int = 100


@dataclass
class Cascade:
    """Indexes and models of one catalog (boosters are None until trained)."""

    items: ItemTable
    bm25: Bm25Index
    dense: DenseIndex
    encoder: TextEncoder
    popularity: np.ndarray
    config: CascadeConfig
    prerank_model: object | None = None
    rank_model: object | None = None
    tail_vectors: dict[str, np.ndarray] = field(default_factory=dict)  # a changed cascade's tail texts -> their vectors

    def encode_queries(self, requests: Sequence[SearchRequest]) -> np.ndarray:
        """Unit query vectors, one row per request."""
        return self.encoder.encode([r.query for r in requests], "query")

    def changed(self, change: RowChange, tail_items: pa.Table, known: Mapping[str, np.ndarray] | None = None) -> Cascade:
        """This (base) cascade over its catalog changed by ``change``, whose tail rows are
        ``tail_items`` (see module docstring); ``self`` is unchanged."""
        table = self.items.changed(change, tail_items, self.bm25.tokenizer)
        tail = table.texts[len(change.kept) :]
        tail_ids = table.ids[len(change.kept) :]
        known = {**{self.items.texts[self.items.row_of[i]]: self.dense.vectors[self.items.row_of[i]] for i in tail_ids if i in self.items.row_of}, **(known or {})}
        missing = sorted({text for text in tail if text not in known})
        fresh = dict(zip(missing, self.encoder.encode(missing, "item"))) if missing else {}
        vectors = {text: known[text] if text in known else fresh[text] for text in tail}
        tail_rows = np.stack([vectors[text] for text in tail]) if tail else np.zeros((0, self.dense.vectors.shape[1]), dtype=np.float32)
        popularity = np.array([self.popularity[self.items.row_of[i]] if i in self.items.row_of else 0.0 for i in tail_ids], dtype=np.float32)
        return replace(self, items=table, bm25=self.bm25.changed(change, tail, self.items.texts), dense=DenseIndex(change.combine(self.dense.vectors, tail_rows)),
                       popularity=change.combine(self.popularity, popularity), tail_vectors=vectors)

    def recall(self, requests: Sequence[SearchRequest], query_vectors: np.ndarray | None = None, history: bool = True) -> list[Channels]:
        """Candidates with channel evidence for each request."""
        if query_vectors is None:
            query_vectors = self.encode_queries(requests)
        dense_scores, dense_rows = self.dense.search(query_vectors, self.config.dense_depth)
        out = []
        for i, request in enumerate(requests):
            bm25_all = self.bm25.scores(request.query)
            bm25_rows = top_positive(bm25_all, self.config.bm25_depth)
            profile = UserProfile.of(request, self.items)
            history_rows = _history_rows(profile, self.config.history_depth) if history else np.zeros(0, dtype=np.int64)
            rows, rrf = reciprocal_rank_fusion([bm25_rows, dense_rows[i], history_rows])
            out.append(
                Channels(
                    profile=profile,
                    rows=rows,
                    rrf=rrf.astype(np.float32),
                    bm25=bm25_all[rows],
                    dense=self.dense.similarity(query_vectors[i], rows),
                    bm25_rank=_ranks(rows, bm25_rows),
                    dense_rank=_ranks(rows, dense_rows[i]),
                    history_rank=_ranks(rows, history_rows),
                )
            )
        return out

    def features(self, request: SearchRequest, channels: Channels, exclude: frozenset[int] = frozenset()) -> np.ndarray:
        """The full feature matrix of the request's candidates."""
        terms = frozenset(self.bm25.tokenizer(request.query))
        return candidate_features(request, channels, self.items, self.popularity, terms, exclude)

    def prerank(self, features: np.ndarray) -> np.ndarray:
        """Pre-rank scores (the RRF score until a pre-rank model is trained)."""
        if self.prerank_model is None:
            return features[:, FEATURES.index("rrf")]
        return self.prerank_model.predict(features[:, PRERANK_COLUMNS])  # type: ignore[attr-defined]

    def rank(self, features: np.ndarray) -> np.ndarray:
        """Full ranking scores for (pre-ranked) candidates."""
        if self.rank_model is None:
            return self.prerank(features)
        return self.rank_model.predict(features)  # type: ignore[attr-defined]

    def cascade_order(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Candidate positions in final order with their scores: ranked head, then pre-rank tail.

        Head scores are shifted above every tail score so the scores stay monotone."""
        pre = self.prerank(features)
        order = np.argsort(-pre, kind="stable")
        head, tail = order[: self.config.prerank_keep], order[self.config.prerank_keep :]
        ranked = self.rank(features[head])
        head = head[np.argsort(-ranked, kind="stable")]
        head_scores = np.sort(ranked)[::-1]
        if len(tail):
            offset = float(pre[tail].max()) - float(head_scores.min()) + 1.0
            head_scores = head_scores + max(0.0, offset)
        return np.concatenate([head, tail]), np.concatenate([head_scores, pre[tail]])


def _history_rows(profile: UserProfile, depth: int) -> np.ndarray:
    """The user's past items, most often first (then most recent), at most ``depth``."""
    if not profile.length:
        return np.zeros(0, dtype=np.int64)
    ranked = sorted(profile.items, key=lambda row: (-profile.items[row], -profile.last_seen[row]))
    return np.array(ranked[:depth], dtype=np.int64)


def _ranks(rows: np.ndarray, ranked: np.ndarray) -> np.ndarray:
    """1-based rank of each row in ``ranked``; len(ranked) + 1 for rows not in it."""
    position = {int(row): rank for rank, row in enumerate(ranked, start=1)}
    missing = len(ranked) + 1
    return np.array([position.get(int(row), missing) for row in rows], dtype=np.float32)
