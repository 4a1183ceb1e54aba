"""The HTTP API through ``TestClient``: exact bodies, filters, users, events, metrics, bad input."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from onesearch.serving.app import create_app
from onesearch.serving.events import EventLog
from onesearch.serving.keys import IngestKeys


INGEST_KEY = "an-ingest-key-of-the-shop-web"
INGEST = {"Authorization": f"Bearer {INGEST_KEY}"}


@pytest.fixture
def client(engine, tmp_path):
    with TestClient(create_app(engine, EventLog(tmp_path / "events.jsonl"), ingest=IngestKeys({"shop-web": INGEST_KEY}, rate=5, burst=3))) as test_client:
        yield test_client


def test_bm25_search_exact_body(client):
    response = client.post("/search", json={"query": "blue", "k": 2, "searcher": "bm25"})
    assert response.status_code == 200
    body = response.json()
    assert body["took_ms"] >= 0 and body["user"] == "cold"
    assert body["items"] == [
        {"item_id": "i1", "title": "blue shoe 1", "code": "0-0-1", "score": 0.5, "brand": "acme", "price": 11.0},
        {"item_id": "i4", "title": "blue shoe 4", "code": "0-1-1", "score": 0.2, "brand": "zeta", "price": 14.0},
    ]


def test_generative_returns_k_distinct_catalog_items_for_cold_known_and_posted_users(client, catalog):
    titles = {item.item_id: item.title for item in catalog}
    for extra, how in (({}, "cold"), ({"user_id": "nobody-seen"}, "cold"), ({"user_id": "u1"}, "known"), ({"history": [{"type": "order", "item_id": "i5"}]}, "posted")):
        body = client.post("/search", json={"query": "red shoe", "k": 7, **extra}).json()
        assert body["user"] == how and len(body["items"]) == 7
        assert len({h["item_id"] for h in body["items"]}) == 7
        assert all(titles[h["item_id"]] == h["title"] for h in body["items"])
        scores = [h["score"] for h in body["items"]]
        assert scores == sorted(scores, reverse=True)


def test_filters_restrict_the_generative_trie_and_the_other_searchers(client, catalog):
    by_id = {item.item_id: item for item in catalog}
    body = client.post("/search", json={"query": "shoe", "k": 10, "filters": {"brand": "ACME", "price_max": 30}}).json()
    assert len(body["items"]) == 10  # 10 acme items cost <= 30: the beam finds all of them, only them
    assert all(by_id[h["item_id"]].brand == "acme" and by_id[h["item_id"]].price <= 30 for h in body["items"])
    body = client.post("/search", json={"query": "shoe", "k": 5, "searcher": "bm25", "filters": {"category": "Green"}}).json()
    assert [h["item_id"] for h in body["items"]] == ["i2", "i5", "i8", "i11", "i14"]
    assert client.post("/search", json={"query": "shoe", "filters": {"brand": "none-such"}}).json()["items"] == []


def test_recommend_needs_no_query(client):
    body = client.post("/recommend", json={"user_id": "u1", "k": 3}).json()
    assert body["searcher"] == "generative" and len(body["items"]) == 3


def test_items_users_healthz_and_page(client):
    assert client.get("/items/i2").json() == {"item_id": "i2", "title": "green shoe 2", "brand": "zeta", "category": ["shoes", "green"], "price": 12.0, "code": "0-0-2", "in_stock": True}
    assert client.get("/items/nope").status_code == 404 and client.get("/items/nope").json() == {"error": "no item 'nope'"}
    assert client.get("/users/u1").json() == {"user_id": "u1", "history": [{"type": "order", "item_id": "i3", "query": None}, {"type": "search", "item_id": None, "query": "red shoe"}]}
    assert client.get("/users/u2").status_code == 404
    assert client.get("/healthz").json() == {"status": "ok", "searchers": ["bm25", "generative"], "items": 30, "filters": ["brand", "category", "price"],
                                            "queue_depth": 0, "generation": 0, "build": {"finished": True, "steps": []}, "orders": False,
                                            "queued_changes": 0, "refused_changes": []}
    assert client.get("/build").json() == {"finished": True, "steps": []}
    page = client.get("/")
    assert page.status_code == 200 and "search-form" in page.text
    assert "/search" in client.get("/openapi.json").json()["paths"]


def test_searches_and_events_are_logged_in_the_generic_interaction_format(client, tmp_path):
    client.post("/search", json={"query": "red", "k": 2, "searcher": "bm25", "user_id": "u9"})
    assert client.post("/events", json={"type": "cart", "item_id": "i0", "user_id": "u9", "query": "red"}, headers=INGEST).status_code == 202
    assert client.post("/events", json={"type": "click", "item_id": "zzz"}, headers=INGEST).status_code == 422
    rows = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert rows[-1]["source"] == "shop-web"
    assert [(r["type"], r.get("item_id"), r.get("position")) for r in rows] == [("search", None, None), ("impression", "i0", 1), ("impression", "i3", 2), ("cart", "i0", None)]
    assert all(r["user_id"] == "u9" and r["query"] == "red" for r in rows)
    assert rows[0]["session_id"] == rows[1]["session_id"]


def test_events_need_a_valid_ingest_key_and_keep_to_its_rate(client, engine):
    event = {"type": "click", "item_id": "i0", "user_id": "u1"}
    assert client.post("/events", json=event).status_code == 401
    assert client.post("/events", json=event, headers={"Authorization": "Bearer not-a-key-not-a-key"}).status_code == 401
    answers = [client.post("/events", json=event, headers=INGEST) for _ in range(6)]
    assert [a.status_code for a in answers[:3]] == [202, 202, 202]  # the burst
    limited = [a for a in answers if a.status_code == 429]
    assert limited and int(limited[0].headers["Retry-After"]) >= 1
    with TestClient(create_app(engine)) as closed:
        assert closed.post("/events", json=event, headers=INGEST).status_code == 403  # no ingest keys: ingest off


def test_metrics_count_requests_by_route_and_status(client):
    client.post("/search", json={"query": "red", "searcher": "bm25"})
    client.post("/search", json={"query": ""})
    text = client.get("/metrics").text
    assert 'onesearch_requests_total{route="/search",status="200"} 1.0' in text
    assert 'onesearch_requests_total{route="/search",status="422"} 1.0' in text
    assert "onesearch_request_seconds_bucket" in text and "onesearch_queue_depth 0.0" in text


@pytest.mark.parametrize("body", [
    {"query": ""}, {"query": "   "}, {"query": "x" * 10_000}, {"query": "red", "k": 0}, {"query": "red", "k": 10**9},
    {"query": 5}, {"query": "red", "k": "ten"}, {"query": "red", "searcher": "magic"}, {"query": "red", "filters": {"price_min": -1}},
    {"query": "red", "history": [{"type": "order"}]}, {"query": "red", "surprise": 1}, [], None,
])
def test_bad_bodies_are_422_with_a_json_error(client, body):
    response = client.post("/search", json=body)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid request" and response.json()["detail"]


def test_malformed_json_and_invalid_utf8_are_4xx_json(client):
    for raw in (b'{"query": "red"', b'{"query": "\xff\xfe"}', b"\x00\x01"):
        response = client.post("/search", content=raw, headers={"content-type": "application/json"})
        assert 400 <= response.status_code < 500 and response.json()["error"]


def test_a_searcher_not_served_is_a_404(client):
    response = client.post("/search", json={"query": "red", "searcher": "cascade"})
    assert response.status_code == 404 and "not served" in response.json()["error"]


def test_overload_answers_429_with_retry_after_and_the_rest_are_served(engine):
    import asyncio
    import threading

    import httpx

    from onesearch.serving.app import Settings

    gate = threading.Event()
    lexical = engine.searchers["bm25"]
    original = lexical.search

    def slow(requests, k):
        gate.wait(2)
        return original(requests, k)

    lexical.search = slow
    app = create_app(engine, settings=Settings(max_batch=1, max_wait=0.0, max_queue=2, retry_after=3))

    async def main():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            tasks = [asyncio.ensure_future(http.post("/search", json={"query": "red", "searcher": "bm25"})) for _ in range(6)]
            await asyncio.sleep(0.3)
            gate.set()
            return await asyncio.gather(*tasks)

    responses = asyncio.run(main())
    refused = [r for r in responses if r.status_code == 429]
    # 2 wait in the queue and at most 1 is with the worker: 3 or 4 of 6 are refused, the rest served
    assert 3 <= len(refused) <= 4 and all(r.headers["retry-after"] == "3" and "overloaded" in r.json()["error"] for r in refused)
    assert {r.status_code for r in responses} == {200, 429}
