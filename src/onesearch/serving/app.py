"""``create_app(engine, ...)``: the FastAPI service over an already-built ``Engine``.

Routes (API version 1, schemas in ``serving.schemas``; OpenAPI at ``/docs``):
``POST /search``, ``POST /recommend`` (no query: the generative model as home-feed
recommender), ``GET /items/{id}``, ``GET /users`` (known users to try) and ``GET /users/{id}`` (stored history, for the page),
``POST /events``, ``GET /healthz``, ``GET /build`` (a live build's steps), ``GET /metrics`` (Prometheus text), ``GET /`` (the page),
the admin routes of ``serving.admin`` (reload, item upsert and delete) and ``POST /orders/diagnose``
(``serving.orders``, the merchant's order diagnosis).

Contract: every search goes through one ``MicroBatcher`` (batches per engine, searcher, filters
and k, so a search never mixes the engines before and after an admin swap);
every answer names its replica (process id) in ``X-Onesearch-Replica``, and each request
first applies what other replicas changed (``Live.refresh``); a full queue answers 429 with ``Retry-After``, a request past its timeout 504,
a body past its cap 413 before it is read (``serving.limits``); every error body
is ``{"error": ..., "detail": ...}`` JSON — bad input is a 4xx, never a 500. Searches and posted
events are appended to the ``EventLog``; an event needs an ingest key (``serving.keys``) and is
logged with the key's name as its ``source``.
"""

from __future__ import annotations

import math
import os
import time
import uuid
from collections.abc import Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, get_args

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from onesearch.serving.admin import BEARER, Admin, Live, add_admin_routes
from onesearch.serving.batcher import MicroBatcher, Overloaded
from onesearch.serving.engine import Engine, FilterKey, history_event
from onesearch.serving.events import EventLog
from onesearch.serving.keys import IngestKeys
from onesearch.serving.limits import BodyLimit
from onesearch.serving.orders import OrderDiagnosis, add_order_routes
from onesearch.serving.schemas import (
    API_VERSION, Behaviour, BuildBody, BuildStepBody, ErrorBody, EventBody, Filters, HistoryEventBody, HitBody, ItemBody, ItemEventBody, RecommendBody, SearchBody, SearchEventBody,
    SearchResponse, UserBody, UsersBody,
)
from onesearch.types import HistoryEvent, Hit, SearchRequest

__all__ = ["Settings", "create_app"]

PAGE = Path(__file__).with_name("static") / "index.html"
BEHAVIOURS = get_args(Behaviour)
ERRORS: dict[int | str, dict[str, Any]] = {status: {"model": ErrorBody} for status in (400, 404, 413, 422, 429, 504)}


@dataclass(frozen=True)
class Settings:
    """Batching and limits of one app (see ``MicroBatcher``); ``retry_after`` seconds go with a 429."""

    max_batch: int = 16
    max_wait: float = 0.005
    max_queue: int = 256
    timeout: float = 10.0
    retry_after: int = 1
    workers: int = 2  # batches run at once (threads)
    max_body: int = 64 * 1024  # bytes of a search or event body (413 past it, before reading)
    max_large_body: int = 8 * 1024 * 1024  # bytes of an admin or order-diagnosis batch


class BuildStatus(Protocol):
    """A live build's board (``deploy.board.BuildBoard``)."""

    @property
    def finished(self) -> bool: ...

    def snapshot(self) -> list[dict[str, Any]]: ...


def create_app(engine: Engine, events: EventLog | None = None, settings: Settings | None = None, admin: Admin | None = None, admin_key: str | None = None,
               build: BuildStatus | None = None, orders: OrderDiagnosis | None = None, ingest: IngestKeys | None = None) -> FastAPI:
    """The service (see module docstring); ``admin`` (with ``admin_key``) enables the admin routes;
    ``build`` is the board of a live build still adding searchers (``app.state.live.publish``);
    ``orders`` enables ``POST /orders/diagnose`` (behind the admin key); ``ingest`` holds the keys
    ``POST /events`` takes (none: events are refused)."""
    settings = settings or Settings()
    events = events or EventLog(None)
    live = Live(engine, admin)
    batcher = MicroBatcher(_run, settings.max_batch, settings.max_wait, settings.max_queue, settings.timeout, settings.workers)
    metrics = _Metrics(batcher)

    @asynccontextmanager
    async def lifespan(_: FastAPI):  # type: ignore[no-untyped-def]
        yield
        await batcher.close()

    app = FastAPI(title="onesearch", version=API_VERSION, lifespan=lifespan, description="Generative e-commerce search: one model from query and user to items, beside the cascade.")
    _errors(app, settings)
    app.add_middleware(BodyLimit, default=settings.max_body, large=settings.max_large_body)
    app.state.live = live
    add_admin_routes(app, live, admin_key)
    add_order_routes(app, orders, admin_key)

    app.add_middleware(_Observed, live=live, metrics=metrics)  # outermost: 413s are named and counted too

    @app.post("/search", response_model=SearchResponse, responses=ERRORS)
    async def search(body: SearchBody) -> SearchResponse:
        """Items for a query and (optionally) a user, from the chosen searcher."""
        engine = live.engine
        _known(engine, body.searcher)
        response = await _answer(engine, batcher, body.searcher, body.query, body)
        events.search(body.user_id, body.query, uuid.uuid4().hex[:16], [hit.item_id for hit in response.items])
        return response

    @app.post("/recommend", response_model=SearchResponse, responses=ERRORS)
    async def recommend(body: RecommendBody) -> SearchResponse:
        """Items for a user with no query (the generative model with an empty query)."""
        engine = live.engine
        _known(engine, "generative")
        return await _answer(engine, batcher, "generative", "", body)

    @app.get("/items/{item_id}", response_model=ItemBody, responses=ERRORS)
    async def item(item_id: str) -> ItemBody:
        """One catalog item."""
        found = live.engine.items.get(item_id)
        if found is None:
            raise HTTPException(404, f"no item {item_id!r}")
        return ItemBody(item_id=found.item_id, title=found.title, brand=found.brand, category=list(found.category), price=found.price, code=found.code, in_stock=found.in_stock)

    @app.get("/users", response_model=UsersBody)
    async def users() -> UsersBody:
        """Some known users (most active first), to try personalized search with."""
        return UsersBody(users=live.engine.sample_users)

    @app.get("/users/{user_id}", response_model=UserBody, responses=ERRORS)
    async def user(user_id: str) -> UserBody:
        """A known user's stored history (oldest first); 404 for unknown users."""
        context, how = live.engine.user(user_id, None)
        if how != "known":
            raise HTTPException(404, f"no stored history for user {user_id!r}")
        history = [_event_body(e) for e in context.history if (e.type.value == "search" and e.query) or (e.type.value in BEHAVIOURS and e.item_id)]
        return UserBody(user_id=user_id, history=history)

    @app.post("/events", status_code=202, responses={**ERRORS, 401: {"model": ErrorBody}, 403: {"model": ErrorBody}})
    async def event(body: EventBody, source: str = Depends(ingest_check(ingest))) -> dict[str, str]:
        """Log a click, cart or order (for the next model's training data), tagged with the ingest key's name."""
        if body.item_id not in live.engine.items:
            raise HTTPException(422, f"no item {body.item_id!r} in the catalog")
        events.interaction(body.type, body.user_id, body.item_id, body.query, source)
        return {"status": "logged", "source": source}

    def build_body() -> BuildBody:
        if build is None:
            return BuildBody(finished=True, steps=[])
        return BuildBody(finished=build.finished, steps=[BuildStepBody(**step) for step in build.snapshot()])

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        """Liveness, with the searchers served, the catalog size, the filters its columns allow and the live build's state."""
        engine = live.engine
        return {"status": "ok", "searchers": sorted(engine.searchers), "items": len(engine.items), "filters": engine.filters, "queue_depth": batcher.depth,
                "generation": live.generation, "build": build_body().model_dump(), "orders": orders is not None,
                "queued_changes": len(live.pending), "refused_changes": live.refused}

    @app.get("/build", response_model=BuildBody)
    async def build_state() -> BuildBody:
        """The live build behind the service: each step's status, progress, elapsed time and ETA."""
        return build_body()

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(metrics.text(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(PAGE)

    return app


async def _answer(engine: Engine, batcher: MicroBatcher, name: str, query: str, body: SearchBody | RecommendBody) -> SearchResponse:
    started = time.perf_counter()
    history = None if body.history is None else [history_event(e.type, e.item_id, e.query) for e in body.history]
    user, how = engine.user(body.user_id, history)
    hits = await batcher.submit((engine, name, _filter_key(body.filters), body.k), SearchRequest(query, user))
    items = [_hit(engine, hit) for hit in hits]
    return SearchResponse(searcher=name, items=items, took_ms=round((time.perf_counter() - started) * 1000, 2), user=how)


def _run(key: tuple[Engine, str, FilterKey | None, int], requests: Sequence[SearchRequest]) -> list[list[Hit]]:
    engine, name, filters, k = key
    return engine.search(name, requests, k, filters)


def _event_body(event: HistoryEvent) -> HistoryEventBody:
    if event.type.value == "search":
        return SearchEventBody(type="search", query=event.query or "")
    return ItemEventBody(type=event.type.value, item_id=event.item_id or "", query=event.query or None)  # type: ignore[arg-type]


def _known(engine: Engine, name: str) -> None:
    if name not in engine.searchers:
        raise HTTPException(404, f"searcher {name!r} is not served here (serving: {', '.join(sorted(engine.searchers))})")


def _filter_key(filters: Filters | None) -> FilterKey | None:
    if filters is None:
        return None
    return (filters.category, filters.brand, filters.price_min, filters.price_max, filters.in_stock)


def _hit(engine: Engine, hit: Hit) -> HitBody:
    item = engine.items.get(hit.item_id)
    if item is None:
        return HitBody(item_id=hit.item_id, title="", code=None, score=hit.score)
    return HitBody(item_id=hit.item_id, title=item.title, code=item.code, score=hit.score, brand=item.brand, price=item.price)


def ingest_check(ingest: IngestKeys | None) -> Any:
    """The dependency of ``POST /events``: the name of a valid ingest key with events left in its
    bucket (401 without or with a wrong key, 403 when the service has no ingest keys, 429 with
    ``Retry-After`` past the key's rate)."""

    def check(credentials: HTTPAuthorizationCredentials | None = Depends(BEARER)) -> str:
        refused = HTTPException(401, "events need the header 'Authorization: Bearer <ingest key>'", headers={"WWW-Authenticate": "Bearer"})
        if credentials is None:
            raise refused
        if ingest is None:
            raise HTTPException(403, "event ingest is off (start the service with ingest keys)")
        name = ingest.identify(credentials.credentials)
        if name is None:
            raise refused
        wait = ingest.take(name)
        if wait is not None:
            raise HTTPException(429, f"over the rate of ingest key {name!r}", headers={"Retry-After": str(max(1, math.ceil(wait)))})
        return name

    return check


def _errors(app: FastAPI, settings: Settings) -> None:
    """One JSON error shape for every failure."""

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in error.errors()]
        return JSONResponse({"error": "invalid request", "detail": detail}, status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, error: HTTPException) -> JSONResponse:
        return JSONResponse({"error": str(error.detail)}, status_code=error.status_code, headers=getattr(error, "headers", None))

    @app.exception_handler(Overloaded)
    async def overloaded(_: Request, error: Overloaded) -> JSONResponse:
        return JSONResponse({"error": f"overloaded: {error}; retry later"}, status_code=429, headers={"Retry-After": str(settings.retry_after)})

    @app.exception_handler(TimeoutError)
    async def timed_out(_: Request, error: TimeoutError) -> JSONResponse:
        return JSONResponse({"error": f"no answer within {settings.timeout:g} s"}, status_code=504)

    @app.exception_handler(Exception)
    async def failed(_: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"error": f"internal error: {type(error).__name__}"}, status_code=500)


class _Observed:
    """ASGI middleware around every HTTP request: other replicas' changes applied first, the
    replica named in ``X-Onesearch-Replica``, the request counted by route and status (a plain
    ASGI middleware: Starlette's ``BaseHTTPMiddleware`` costs a task and a body stream per request)."""

    def __init__(self, app: ASGIApp, live: Live, metrics: _Metrics) -> None:
        self.app, self.live, self.metrics = app, live, metrics
        self.replica = (b"x-onesearch-replica", str(os.getpid()).encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500  # 500 unless a response starts

        async def named(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), self.replica]
            await send(message)

        await self.live.refresh()
        try:
            await self.app(scope, receive, named)
        finally:
            self.metrics.observe(getattr(scope.get("route"), "path", "unmatched"), status, time.perf_counter() - started)


class _Metrics:
    """Prometheus counters of one app (its own registry, so apps never share series)."""

    def __init__(self, batcher: MicroBatcher) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("onesearch_requests", "HTTP requests by route and status.", ["route", "status"], registry=self.registry)
        self.latency = Histogram("onesearch_request_seconds", "Request latency by route.", ["route"], registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
        self.errors = Counter("onesearch_errors", "Requests that failed inside the service (5xx).", registry=self.registry)
        self.queue = Gauge("onesearch_queue_depth", "Search jobs waiting for a batch.", registry=self.registry)
        self.queue.set_function(lambda: batcher.depth)

    def observe(self, route: str, status: int, seconds: float) -> None:
        self.requests.labels(route, str(status)).inc()
        if status >= 500:
            self.errors.inc()
        self.latency.labels(route).observe(seconds)

    def text(self) -> bytes:
        return generate_latest(self.registry)
