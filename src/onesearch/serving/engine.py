"""``Engine``: the already-built searchers of one catalog, and what the API shows of its items.

Contract: built by the caller (``cli serve``) from loaded artifacts; ``search(name, requests, k,
filters)`` answers at most ``k`` hits per request. Every request first passes the engine's one
query-understanding step (``understand``: requests -> requests, e.g. spelling correction), the
same for every searcher. With filters, a searcher that can restrict
itself (``restricted(item_ids)``, the generative searcher: its trie then holds only the allowed
items) searches inside the allowed set; the others over-fetch and drop disallowed hits, so they
may return fewer than ``k``. Allowed sets are cached per filter. ``user(user_id, history)`` turns
an API user into the searchers' ``UserContext``: a posted history wins, then the stored one;
an unknown id is a cold user, never an error. ``sample_users`` are known users to offer a
person trying the service (the page's user picker). ``filters`` names the filters the catalog has
a column for (``brand``, ``category``, ``price``: some item has a value), so a page offers only those.
``warm_up(count)`` runs ``count`` searches through every searcher and drops the hits, so what a
searcher builds on first use exists before a service settles its heap and serves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from itertools import islice

from onesearch.memory import WARM_UP
from onesearch.types import HistoryEvent, Hit, InteractionType, SearchRequest, Searcher, UserContext

__all__ = ["Engine", "FilterKey", "ItemRecord", "Understand", "history_event"]

OVERFETCH, MAX_FETCH = 20, 1000
WARM_UP_WORDS, WARM_UP_HITS = 3, 10  # a warm-up query's words (cut from a title) and hits per search
# category, brand, price_min, price_max, in_stock (all optional)
FilterKey = tuple[str | None, str | None, float | None, float | None, bool | None]
Understand = Callable[[Sequence[SearchRequest]], list[SearchRequest]]


@dataclass(frozen=True)
class ItemRecord:
    """What the API shows of an item."""

    item_id: str
    title: str
    brand: str | None = None
    category: tuple[str, ...] = ()
    price: float | None = None
    code: str | None = None
    in_stock: bool = True

    def passes(self, key: FilterKey) -> bool:
        """True when the item meets every given filter."""
        category, brand, low, high, in_stock = key
        if category is not None and category.casefold() not in {c.casefold() for c in self.category}:
            return False
        if brand is not None and (self.brand or "").casefold() != brand.casefold():
            return False
        if (low is not None or high is not None) and self.price is None:
            return False
        if low is not None and self.price is not None and self.price < low:
            return False
        if high is not None and self.price is not None and self.price > high:
            return False
        return not (in_stock and not self.in_stock)


class Engine:
    """Searchers by name over one catalog."""

    def __init__(self, searchers: Mapping[str, Searcher], items: Sequence[ItemRecord], users: Callable[[str], UserContext | None] | None = None,
                 sample_users: Sequence[str] = (), understand: Understand | None = None) -> None:
        self.searchers = dict(searchers)
        self.understand = understand
        self.items = {item.item_id: item for item in items}
        self._users = users or (lambda _: None)
        self.sample_users = list(sample_users)
        self._allowed = lru_cache(maxsize=64)(partial(_allowed_ids, self.items))  # no cache refers back to the engine, so a replaced
        self._restricted = lru_cache(maxsize=16)(partial(_restricted_searcher, self.searchers, self._allowed))  # engine is freed at once
        present = {"brand": any(i.brand for i in items), "category": any(i.category for i in items), "price": any(i.price is not None for i in items)}
        self.filters = [name for name, has in present.items() if has]

    def user(self, user_id: str | None, history: Sequence[HistoryEvent] | None) -> tuple[UserContext, str]:
        """The searchers' view of a user and how it was found: posted, known or cold."""
        if history is not None:
            return UserContext(user_id, {}, tuple(history)), "posted"
        stored = self._users(user_id) if user_id else None
        if stored is not None:
            return stored, "known"
        return UserContext(user_id), "cold"

    def search(self, name: str, requests: Sequence[SearchRequest], k: int, filters: FilterKey | None = None) -> list[list[Hit]]:
        """The named searcher's hits, inside ``filters`` when given."""
        searcher = self.searchers[name]
        if self.understand is not None:
            requests = self.understand(requests)
        if filters is None or not any(v is not None for v in filters):
            return searcher.search(requests, k)
        allowed = self._allowed(filters)
        if not allowed:
            return [[] for _ in requests]
        if hasattr(searcher, "restricted"):
            return self._restricted(name, filters).search(requests, k)
        found = searcher.search(requests, min(MAX_FETCH, k * OVERFETCH))
        return [[hit for hit in hits if hit.item_id in allowed][:k] for hits in found]

    def warm_up(self, count: int = WARM_UP) -> None:
        """Search every searcher ``count`` times and drop the hits: the queries are the first words
        of the first items' titles, the user the first sample user (cold when there is none)."""
        user = self.user(self.sample_users[0], None)[0] if self.sample_users else UserContext()
        requests = [SearchRequest(" ".join(item.title.split()[:WARM_UP_WORDS]), user) for item in islice(self.items.values(), count)]
        for name in self.searchers:
            self.search(name, requests, WARM_UP_HITS)


def _allowed_ids(items: Mapping[str, ItemRecord], key: FilterKey) -> frozenset[str]:
    return frozenset(item_id for item_id, item in items.items() if item.passes(key))


def _restricted_searcher(searchers: Mapping[str, Searcher], allowed: Callable[[FilterKey], frozenset[str]], name: str, key: FilterKey) -> Searcher:
    return searchers[name].restricted(allowed(key))  # type: ignore[attr-defined]


def history_event(kind: str, item_id: str | None, query: str | None) -> HistoryEvent:
    """An API history event as the searchers' ``HistoryEvent``."""
    return HistoryEvent(item_id, InteractionType(kind), None, query)
