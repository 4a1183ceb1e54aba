"""Shared domain vocabulary: items, users, interactions, queries and benchmark examples.

Contract: stdlib only, no I/O. Every other module speaks in these types (or in the Arrow tables
of ``catalog.schema`` whose columns mirror them one to one). Ids are always strings, so UPCs keep
their leading zeros and ASINs, integers and Chinese ids all fit one type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple, Protocol

__all__ = [
    "Example",
    "Hit",
    "HistoryEvent",
    "Interaction",
    "InteractionType",
    "Item",
    "Query",
    "SearchRequest",
    "Searcher",
    "Target",
    "User",
    "UserContext",
]


class InteractionType(str, Enum):
    """What a user did. Values are the strings stored in the ``type`` column."""

    SEARCH = "search"
    IMPRESSION = "impression"
    CLICK = "click"
    CART = "cart"
    ORDER = "order"
    FOLLOW = "follow"


@dataclass(frozen=True)
class Item:
    """One catalog item. ``category`` is a path, coarse to fine; ``attributes`` are free key/values."""

    item_id: str
    title: str
    brand: str | None = None
    category: tuple[str, ...] = ()
    attributes: dict[str, str] = field(default_factory=dict)
    price: float | None = None
    seller: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class User:
    """A user and whatever profile fields the data set knows (age bucket, gender, city...)."""

    user_id: str
    profile: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Interaction:
    """One logged event. ``seq`` orders a user's events (equal ``seq`` = same moment/session);
    ``time`` is in the unit the data set documents; ``item_id`` is None for a bare search."""

    user_id: str
    seq: int
    type: InteractionType
    item_id: str | None = None
    query: str | None = None
    session_id: str | None = None
    time: float | None = None
    position: int | None = None


@dataclass(frozen=True)
class Query:
    """A search query on its own (query logs without results, e.g. Multi-CPR)."""

    query_id: str
    text: str


@dataclass(frozen=True)
class Target:
    """A judged item for an example: ``gain`` feeds NDCG, ``relevant`` feeds recall/HR/MRR."""

    item_id: str
    gain: float
    relevant: bool


@dataclass(frozen=True)
class HistoryEvent:
    """One past event of a user, oldest first. ``seq`` (when known) orders events as in
    ``Interaction``; ``item_id`` is None for a bare search, whose text is ``query``."""

    item_id: str | None
    type: InteractionType
    seq: int | None = None
    query: str | None = None


@dataclass(frozen=True)
class Example:
    """One benchmark case: query and/or user context in, judged targets out.

    The user's past is either ``history`` (explicit, oldest first) or, for long logs,
    ``history_end``: every interaction of ``user_id`` with ``seq < history_end``.
    """

    example_id: str
    split: str
    targets: tuple[Target, ...]
    query: str | None = None
    user_id: str | None = None
    history: tuple[HistoryEvent, ...] = ()
    history_end: int | None = None


@dataclass(frozen=True)
class UserContext:
    """What a searcher may know of the user at query time: profile and past events, oldest first."""

    user_id: str | None = None
    profile: dict[str, str] = field(default_factory=dict)
    history: tuple[HistoryEvent, ...] = ()


@dataclass(frozen=True)
class SearchRequest:
    """One search: the query text (may be empty for pure recommendation) and the user context."""

    query: str
    user: UserContext = field(default_factory=UserContext)


class Hit(NamedTuple):
    """One ranked result."""

    item_id: str
    score: float


class Searcher(Protocol):
    """The one retrieval contract: a batch of requests in, one ranked list of at most ``k`` hits
    (best first, distinct items of the catalog) per request out, in request order."""

    name: str

    def search(self, requests: Sequence[SearchRequest], k: int) -> list[list[Hit]]: ...
