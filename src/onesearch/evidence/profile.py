"""``UserProfile``: counts over one request's user history, by item row, type, leaf and brand.

Contract: ``UserProfile.of(request, items)`` reads only the request's own history (what a searcher
may know at query time); item events whose item is not in ``items`` are skipped. ``recencies(rows)``
is 1 / (events since the item was last touched), 0 for untouched items; ``gaps(rows)`` the
log-scaled closeness of that last touch and ``rates(rows)`` the item's share of the events since
it was first touched (a habit: 1 for an item in every event since). ``lookup(mapping, keys)``
reads a counter for many integer keys at once (the profile's counters are small, the rows many);
``lookup_pairs`` the same from key and value arrays.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from onesearch.evidence.items import ItemTable
from onesearch.types import InteractionType, SearchRequest

GAP_LOG = float(np.log1p(3000.0))  # events back at which ``gaps`` reaches 0

__all__ = ["UserProfile", "lookup", "lookup_pairs"]


@dataclass
class UserProfile:
    """Counts over a user's history: items (all and per type), leaf categories and brands."""

    length: int
    items: Counter[int]
    last_seen: dict[int, int]
    first_seen: dict[int, int]
    leaves: Counter[int]
    brands: Counter[int]
    by_type: dict[InteractionType, Counter[int]]

    @classmethod
    def of(cls, request: SearchRequest, items: ItemTable) -> UserProfile:
        """Counts over the item events of the request's history."""
        row_of = items.row_of
        events = [(row_of[e.item_id], e.type) for e in request.user.history if e.item_id is not None and e.item_id in row_of]
        rows = [row for row, _ in events]
        last_seen = {row: position for position, row in enumerate(rows)}
        first_seen = dict(zip(reversed(rows), range(len(rows) - 1, -1, -1)))  # the earliest position wins: written last
        leaf, brand = items.leaf[rows], items.brand[rows]  # per event, counted in C below (not one numpy scalar per event)
        leaves, brands = Counter(leaf[leaf >= 0].tolist()), Counter(brand[brand >= 0].tolist())
        by_type: dict[InteractionType, Counter[int]] = {}
        for row, kind in events:
            if kind not in by_type:
                by_type[kind] = Counter()
            by_type[kind][row] += 1
        return cls(len(rows), Counter(rows), last_seen, first_seen, leaves, brands, by_type)

    def recencies(self, rows: np.ndarray) -> np.ndarray:
        """Per row: 1 / (events since it was last touched); 0 when never (float32)."""
        if not self.last_seen:
            return np.zeros(len(rows), dtype=np.float32)
        position = lookup(self.last_seen, rows, default=np.nan)
        return np.where(np.isnan(position), 0.0, 1.0 / (self.length - np.nan_to_num(position))).astype(np.float32)

    def gaps(self, rows: np.ndarray) -> np.ndarray:
        """Per row: ``1 - log(1 + events since it was last touched) / GAP_LOG``, at least 0; 0 when
        never (float32). Unlike ``recencies`` it keeps telling apart touches 50 and 500 events back."""
        if not self.last_seen:
            return np.zeros(len(rows), dtype=np.float32)
        gap = self.length - lookup(self.last_seen, rows, default=-np.inf)
        return np.clip(1.0 - np.log1p(gap) / GAP_LOG, 0.0, 1.0).astype(np.float32)

    def rates(self, rows: np.ndarray) -> np.ndarray:
        """Per row: its touches over the events since (and with) its first touch; 0 when never (float32)."""
        if not self.first_seen:
            return np.zeros(len(rows), dtype=np.float32)
        since = self.length - lookup(self.first_seen, rows, default=-np.inf)
        return (lookup(self.items, rows) / since).astype(np.float32)


def lookup(mapping: Mapping[int, float], keys: np.ndarray, default: float = 0.0) -> np.ndarray:
    """``mapping[k]`` for each of the integer ``keys`` (``default`` where absent), as float64."""
    known = np.fromiter(mapping.keys(), dtype=np.int64, count=len(mapping))
    return lookup_pairs(known, np.fromiter(mapping.values(), dtype=np.float64, count=len(mapping)), keys, default)


def lookup_pairs(known: np.ndarray, values: np.ndarray, keys: np.ndarray, default: float = 0.0) -> np.ndarray:
    """``values[i]`` where the distinct ``known[i]`` equals the key, for each of the integer
    ``keys`` (``default`` where absent), as float64."""
    keys = np.asarray(keys, dtype=np.int64)
    if not len(known):
        return np.full(len(keys), default, dtype=np.float64)
    order = np.argsort(known)
    known, values = np.asarray(known)[order], np.asarray(values, dtype=np.float64)[order]
    index = np.minimum(np.searchsorted(known, keys), len(known) - 1)
    return np.where(known[index] == keys, values[index], default)
