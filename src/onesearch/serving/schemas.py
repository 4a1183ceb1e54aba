"""The HTTP API's contract (version 1): pydantic request and response bodies.

Limits are part of the contract: queries are 1-512 characters after trimming, ``k`` is 1-100,
a posted history holds at most 500 events. Anything else is answered 422 before a searcher runs.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StringConstraints

__all__ = [
    "API_VERSION", "Behaviour", "ErrorBody", "EventBody", "Filters", "HistoryEventBody", "HitBody", "ItemBody", "ItemEventBody", "SearchEventBody",
    "ItemsBody", "ItemUpsertBody", "OrderLineBody", "OrdersBody", "DiagnosedOrderBody", "DiagnosisBody", "RecommendBody", "ReloadBody", "SearchBody", "SearchResponse", "SearcherName", "UserBody", "UsersBody",
]

API_VERSION = "1"
SearcherName = Literal["generative", "hybrid", "cascade", "bm25"]
# Texts must hold a non-space character (the pattern says so in the OpenAPI spec too).
Query = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=512, pattern=r"\S")]
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128, pattern=r"\S")]
Behaviour = Literal["click", "cart", "order"]


def _json_number(value: object) -> object:
    """JSON numbers only (no strings, no booleans); 3.0 counts as the integer 3, as in JSON Schema."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("must be a JSON number")
    return int(value) if isinstance(value, float) and value.is_integer() else value


Whole = Annotated[int, BeforeValidator(_json_number)]
Price = Annotated[float, Field(ge=0), BeforeValidator(_json_number)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchEventBody(_Body):
    """A past search of the user."""

    type: Literal["search"]
    query: Query
    item_id: None = None


class ItemEventBody(_Body):
    """A past click, cart or order of the user."""

    type: Behaviour
    item_id: Id
    query: Query | None = None


# One past event of the user (oldest first in a list); ``type`` tells which kind. (A plain union,
# ``anyOf`` in the spec: schemathesis mutates ``oneOf`` branches into requests that are still valid.)
HistoryEventBody = SearchEventBody | ItemEventBody


class Filters(_Body):
    """Restrictions on the results; all given ones must hold."""

    category: Id | None = Field(None, description="Any level of the item's category path, case-insensitive.")
    brand: Id | None = Field(None, description="The brand, case-insensitive.")
    price_min: Price | None = None
    price_max: Price | None = None
    in_stock: StrictBool | None = Field(None, description="true: only items not removed from stock.")


class _UserBody(_Body):
    user_id: Id | None = Field(None, description="A known user's id; unknown ids are served as cold users.")
    history: list[HistoryEventBody] | None = Field(None, max_length=500, description="Overrides the stored history of user_id.")
    k: Whole = Field(10, ge=1, le=100)
    filters: Filters | None = None


class SearchBody(_UserBody):
    """``POST /search``."""

    query: Query
    searcher: SearcherName = "generative"


class RecommendBody(_UserBody):
    """``POST /recommend``: no query; the generative model fills the home feed."""


class EventBody(_Body):
    """``POST /events``: one interaction to log."""

    type: Behaviour
    item_id: Id
    user_id: Id | None = None
    query: Query | None = None


class ItemUpsertBody(_Body):
    """One catalog item to add or replace (``POST /admin/items``)."""

    item_id: Id
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000, pattern=r"\S")]
    brand: Id | None = None
    category: list[Id] = Field(default_factory=list, max_length=10, description="Category path, top level first.")
    attributes: dict[Id, Annotated[str, StringConstraints(max_length=512)]] = Field(default_factory=dict, max_length=100)
    price: Price | None = None
    description: Annotated[str, StringConstraints(max_length=20000)] | None = None
    in_stock: StrictBool = True


class ItemsBody(_Body):
    """``POST /admin/items``: items to upsert, at most 1000 per call."""

    items: list[ItemUpsertBody] = Field(min_length=1, max_length=1000)


Field_ = Annotated[str, StringConstraints(strip_whitespace=True, max_length=256)] | None


class OrderLineBody(_Body):
    """One order line in the generic order format (README "Order diagnosis"); ``problem`` is not taken."""

    order_id: Id
    ordered_at: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=40)]
    customer_id: Field_ = None
    channel: Field_ = None
    service_level: Field_ = None
    fulfilment: Field_ = None
    city: Field_ = None
    region: Field_ = None
    postal_code: Field_ = None
    country: Field_ = None
    business: StrictBool | None = None
    item_id: Field_ = None
    category: Field_ = None
    variant: Field_ = None
    quantity: Price | None = None
    unit_price: Price | None = None


class OrdersBody(_Body):
    """``POST /orders/diagnose``: the pending orders' lines, at most 5000 per call."""

    orders: list[OrderLineBody] = Field(min_length=1, max_length=5000)


class DiagnosedOrderBody(BaseModel):
    """One diagnosed order: calibrated risk, anomaly (0..1), flag (check / ship first / empty), reasons."""

    order_id: str
    risk: float
    anomaly: float
    value: float
    saved_value: float
    flag: Literal["check", "ship first", ""]
    ship_rank: int | None
    reasons: str


class DiagnosisBody(BaseModel):
    """The diagnosis of a batch: every order, then the ids to check and to ship first (in order)."""

    orders: list[DiagnosedOrderBody]
    check: list[str]
    ship_first: list[str]


class ReloadBody(_Body):
    """``POST /admin/reload``: the model folder to serve (default: the served one, re-read)."""

    model: Annotated[str, StringConstraints(min_length=1, max_length=4096)] | None = None


class HitBody(BaseModel):
    item_id: str
    title: str
    code: str | None
    score: float
    brand: str | None = None
    price: float | None = None


class SearchResponse(BaseModel):
    searcher: str
    items: list[HitBody]
    took_ms: float
    user: Literal["known", "cold", "posted"]


class ItemBody(BaseModel):
    item_id: str
    title: str
    brand: str | None
    category: list[str]
    price: float | None
    code: str | None
    in_stock: bool


class UserBody(BaseModel):
    user_id: str
    history: list[HistoryEventBody]


class UsersBody(BaseModel):
    users: list[str]


class BuildStepBody(BaseModel):
    """One step of a live build: ``status`` is waiting, running, done, failed or skipped; ``note``
    the failure's one line, why it was skipped, or the running builder's latest line."""

    name: str
    status: str
    done: int
    total: int | None
    note: str
    elapsed_s: float | None
    eta_s: float | None


class BuildBody(BaseModel):
    """The live build behind the service (``finished`` and no steps when it serves prebuilt parts)."""

    finished: bool
    steps: list[BuildStepBody]


class ErrorBody(BaseModel):
    error: str
    detail: list[dict] | None = None
