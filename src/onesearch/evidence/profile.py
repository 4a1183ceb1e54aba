"""``UserProfile``: counts over one request's user history, by item row, type, leaf and brand.

Contract: ``UserProfile.of(request, items)`` reads only the request's own history (what a searcher
may know at query time); item events whose item is not in ``items`` are skipped. ``recency(row)``
is 1 / (events since the item was last touched), 0 for untouched items.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from onesearch.evidence.items import ItemTable
from onesearch.types import InteractionType, SearchRequest

__all__ = ["UserProfile"]


@dataclass
class UserProfile:
    """Counts over a user's history: items (all and per type), leaf categories and brands."""

    length: int
    items: Counter[int]
    last_seen: dict[int, int]
    leaves: Counter[int]
    brands: Counter[int]
    by_type: dict[InteractionType, Counter[int]]

    @classmethod
    def of(cls, request: SearchRequest, items: ItemTable) -> UserProfile:
        """Counts over the item events of the request's history."""
        events = [(items.row_of[e.item_id], e.type) for e in request.user.history if e.item_id is not None and e.item_id in items.row_of]
        rows = [row for row, _ in events]
        last_seen = {row: position for position, row in enumerate(rows)}
        leaves = Counter(int(items.leaf[row]) for row in rows if items.leaf[row] >= 0)
        brands = Counter(int(items.brand[row]) for row in rows if items.brand[row] >= 0)
        by_type: dict[InteractionType, Counter[int]] = {}
        for row, kind in events:
            if kind not in by_type:
                by_type[kind] = Counter()
            by_type[kind][row] += 1
        return cls(len(rows), Counter(rows), last_seen, leaves, brands, by_type)

    def recency(self, row: int) -> float:
        """1 / (events since ``row`` was last touched); 0 when never."""
        position = self.last_seen.get(row)
        return 0.0 if position is None else 1.0 / (self.length - position)
