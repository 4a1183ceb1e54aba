"""The model's input views: a search request (query + user context) turned into token ids.

Contract: ``Views`` says which views are on; ``ContextBuilder(views, codes)`` turns requests into a
``Context`` of tensors (ids and counts only) given each item's full code. Every view is computed
from the request alone, so unseen users work without retraining:

- query code: the query's own semantic id (computed by the caller with the codebook);
- profile: ``key=value`` profile fields, hashed into ``profile_vocab`` buckets;
- user id: behaviour-derived — the dominant level-0 value of the user's item codes and the
  dominant level-1 value under it, once over the recent window and once over the whole history;
- short term: the codes of the last ``short_items`` clicked / carted / ordered items, each with
  its behaviour type, and the last ``short_queries`` query texts (for the caller to encode);
- long term: per behaviour type, the count histogram of the user's item code values over all
  levels; the model turns it into ``long_levels`` summary tokens per type;
- matched behaviour (needs the query code): the user's distinct past items whose level-0 code is
  the query's, most often first (then most recent), at most ``matched_items``, each with a kind
  saying once / twice / three times or more — the repeat-purchase memory of a query.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from onesearch.types import InteractionType, SearchRequest

__all__ = ["BEHAVIOURS", "Context", "ContextBuilder", "Kind", "Views", "pooled", "recent_queries"]

BEHAVIOURS = (InteractionType.CLICK, InteractionType.CART, InteractionType.ORDER)
_BEHAVIOUR_INDEX = {behaviour: i for i, behaviour in enumerate(BEHAVIOURS)}


class Kind:
    """Type ids of context tokens (0 = padding)."""

    PAD, QUERY_CODE, USER_RECENT, USER_LONG, CLICK, CART, ORDER, QUERY, PROFILE, LONG_TERM = range(10)
    MATCHED_ONCE, MATCHED_TWICE, MATCHED_OFTEN = range(10, 13)
    COUNT = 13


_KIND_OF_BEHAVIOUR = np.array([Kind.CLICK, Kind.CART, Kind.ORDER])  # in BEHAVIOURS order


@dataclass(frozen=True)
class Views:
    """Which input views the model reads besides the query text; saved with the model."""

    query_code: bool = False
    profile: bool = False
    user_id: bool = False
    short_term: bool = False
    long_term: bool = False
    short_items: int = 20
    short_queries: int = 5
    long_levels: int = 2
    profile_vocab: int = 4096
    recent_window: int = 20
    matched_items: int = 0

    @property
    def personal(self) -> bool:
        """True when any view reads the user."""
        return self.profile or self.user_id or self.short_term or self.long_term or self.matched_items > 0

    @property
    def any(self) -> bool:
        """True when the model reads anything besides the query text."""
        return self.query_code or self.personal


@dataclass
class Context:
    """A batch of views. ``codes``: ``B x C x L`` item/query codes (-1 = absent level) with
    ``kinds`` ``B x C`` (0 = padding); ``profile``: ``B x P`` bucket ids (0 = padding);
    ``long_term``: ``B x len(BEHAVIOURS) x V`` value counts (V = sum of code sizes);
    ``queries``: per request, its recent query texts (newest last), for the text encoder."""

    codes: torch.Tensor
    kinds: torch.Tensor
    profile: torch.Tensor
    long_term: torch.Tensor
    queries: list[list[str]]

    def to(self, device: str | torch.device) -> Context:
        """The same context on ``device``."""
        return Context(self.codes.to(device), self.kinds.to(device), self.profile.to(device), self.long_term.to(device), self.queries)


class ContextBuilder:
    """Requests -> ``Context`` for one catalog's item codes."""

    def __init__(self, views: Views, code_of: Mapping[str, Sequence[int]], sizes: Sequence[int]) -> None:
        self.views = views
        self.row_of = {item: row for row, item in enumerate(code_of)}
        self.table = np.asarray(list(code_of.values()), dtype=np.int64).reshape(len(code_of), len(sizes))
        self.sizes = tuple(sizes)
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)

    @classmethod
    def of(cls, views: Views, item_ids: Sequence[str], full_codes: np.ndarray, sizes: Sequence[int]) -> ContextBuilder | None:
        """The builder for a catalog's items and their full codes; None when no view is on."""
        return cls(views, dict(zip(item_ids, np.asarray(full_codes).tolist())), sizes) if views.any else None

    def build(self, requests: Sequence[SearchRequest], query_codes: np.ndarray | None = None) -> Context:
        """The views of ``requests``; ``query_codes`` (``B x L'``, L' <= L, rows of -1 = none) is
        needed when that view is on."""
        if self.views.query_code and query_codes is None:
            raise ValueError("the query-code view is on: pass query_codes")
        none = (np.zeros(0, dtype=np.int64), np.zeros((0, len(self.sizes)), dtype=np.int64))
        events = [self._events(r) or none for r in requests] if self.views.personal else [none] * len(requests)
        rows = [self._tokens(e, None if query_codes is None else query_codes[i]) for i, e in enumerate(events)]
        width = max([1] + [len(kinds) for _, kinds in rows])
        codes = np.full((len(requests), width, len(self.sizes)), -1, dtype=np.int64)
        kinds = np.zeros((len(requests), width), dtype=np.int64)
        for i, (row_codes, row_kinds) in enumerate(rows):
            if row_kinds:
                codes[i, : len(row_kinds)] = row_codes
                kinds[i, : len(row_kinds)] = row_kinds
        return Context(torch.from_numpy(codes), torch.from_numpy(kinds), self._profiles(requests), self._long_term(events), self.queries_of(requests))

    def _events(self, request: SearchRequest) -> tuple[np.ndarray, np.ndarray] | None:
        """Behaviour index (into ``BEHAVIOURS``) and code (``n x L``) of the user's item events
        that have a code, oldest first; None when there are none."""
        found = [(_BEHAVIOUR_INDEX[e.type], self.row_of[e.item_id]) for e in request.user.history if e.type in _BEHAVIOUR_INDEX and e.item_id in self.row_of]
        if not found:
            return None
        behaviour, rows = np.asarray(found, dtype=np.int64).T
        return behaviour, self.table[rows]

    def _tokens(self, events: tuple[np.ndarray, np.ndarray], query_code: np.ndarray | None) -> tuple[list[np.ndarray], list[int]]:
        views, codes, kinds = self.views, [], []
        if views.query_code and query_code is not None and (np.asarray(query_code) >= 0).any():
            padded = np.full(len(self.sizes), -1, dtype=np.int64)
            padded[: len(query_code)] = query_code
            codes.append(padded)
            kinds.append(Kind.QUERY_CODE)
        behaviour, item_codes = events
        if views.matched_items and query_code is not None and len(item_codes) and query_code[0] >= 0:
            matched, counts = _matched(item_codes, int(query_code[0]), views.matched_items)
            codes.extend(matched)
            kinds.extend((Kind.MATCHED_ONCE + np.minimum(counts, 3) - 1).tolist())
        if views.user_id and len(item_codes):
            for kind, window in ((Kind.USER_RECENT, item_codes[-views.recent_window :]), (Kind.USER_LONG, item_codes)):
                codes.append(self._user_id(window))
                kinds.append(kind)
        if views.short_term and len(item_codes):
            codes.extend(item_codes[-views.short_items :])
            kinds.extend(_KIND_OF_BEHAVIOUR[behaviour[-views.short_items :]].tolist())
        return codes, kinds

    def _user_id(self, codes: np.ndarray) -> np.ndarray:
        """Dominant level-0 value, then the dominant level-1 value under it (ties: the smaller
        value); other levels absent."""
        out = np.full(len(self.sizes), -1, dtype=np.int64)
        out[0] = top = int(np.bincount(codes[:, 0]).argmax())
        if len(self.sizes) > 1:
            out[1] = int(np.bincount(codes[codes[:, 0] == top, 1]).argmax())
        return out

    def _profiles(self, requests: Sequence[SearchRequest]) -> torch.Tensor:
        buckets = self.views.profile_vocab - 1
        rows = [[1 + zlib.crc32(f"{k}={v}".encode()) % buckets for k, v in sorted(r.user.profile.items())] if self.views.profile else [] for r in requests]
        out = torch.zeros((len(requests), max([1] + [len(r) for r in rows])), dtype=torch.long)
        for i, row in enumerate(rows):
            out[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        return out

    def _long_term(self, events: list[tuple[np.ndarray, np.ndarray]]) -> torch.Tensor:
        if not self.views.long_term:
            return torch.zeros((len(events), len(BEHAVIOURS), 0))
        counts = np.zeros((len(events), len(BEHAVIOURS), int(sum(self.sizes))), dtype=np.float32)
        for i, (behaviour, codes) in enumerate(events):
            if len(codes):
                np.add.at(counts[i], (behaviour[:, None], self.offsets + codes), 1.0)
        return torch.from_numpy(counts)

    def queries_of(self, requests: Sequence[SearchRequest]) -> list[list[str]]:
        """Each request's recent distinct query texts, oldest first (empty without short term)."""
        if not self.views.short_term:
            return [[] for _ in requests]
        recent = [[e.query for e in r.user.history if e.query] for r in requests]
        return [_distinct_tail(q, self.views.short_queries) for q in recent]


def _matched(item_codes: np.ndarray, level0: int, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct codes among ``item_codes`` (oldest first) whose level 0 is ``level0``: by count,
    then by most recent occurrence; at most ``limit``."""
    rows = item_codes[item_codes[:, 0] == level0]
    if not len(rows):
        return rows, np.zeros(0, dtype=np.int64)
    distinct, inverse, counts = np.unique(rows, axis=0, return_inverse=True, return_counts=True)
    last = np.zeros(len(distinct), dtype=np.int64)
    last[inverse.reshape(-1)] = np.arange(len(rows))
    order = np.lexsort((-last, -counts))[:limit]
    return distinct[order], counts[order]


def _distinct_tail(queries: list[str], n: int) -> list[str]:
    """The last ``n`` distinct queries, oldest first."""
    seen: list[str] = []
    for query in reversed(queries):
        if len(seen) >= n:
            break
        if query not in seen:
            seen.append(query)
    return seen[::-1]


def pooled(states: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
    """Mean of the non-padding token states, l2-normalised: the encoder's sentence vector."""
    keep = (~padding).unsqueeze(-1).to(states.dtype)
    mean = (states * keep).sum(dim=1) / keep.sum(dim=1).clamp(min=1.0)
    return torch.nn.functional.normalize(mean.float(), dim=-1)


def recent_queries(queries: list[list[str]], vectors: np.ndarray, row_of: Mapping[str, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Each request's recent-query vectors (``B x R x dim``, looked up as ``vectors[row_of[q]]``)
    and their padding mask (True = padding)."""
    width = max([0] + [len(row) for row in queries])
    out = np.zeros((len(queries), width, vectors.shape[1]), dtype=np.float32)
    padding = np.ones((len(queries), width), dtype=bool)
    for i, row in enumerate(queries):
        for j, text in enumerate(row):
            out[i, j] = vectors[row_of[text]]
            padding[i, j] = False
    return torch.from_numpy(out), torch.from_numpy(padding)
