"""The admin API over a stand-in ``Admin``: key checks, atomic swaps, refusals keep the old engine,
and a search already running finishes on the engine it started with."""

from __future__ import annotations

import asyncio
import os
import threading

import httpx
from fastapi.testclient import TestClient

from onesearch.errors import DataError
from onesearch.serving.admin import BUILDER_NICE, Live
from onesearch.serving.app import create_app
from onesearch.serving.engine import Engine
from onesearch.types import Hit

KEY = "a-long-enough-admin-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


class SlowSearcher:
    """Answers one fixed item after ``release`` is set (so a swap can happen mid-search)."""

    name = "bm25"

    def __init__(self, item_id: str, release: threading.Event | None = None) -> None:
        self.item_id, self.release = item_id, release

    def search(self, requests, k):
        if self.release is not None:
            self.release.wait(5)
        return [[Hit(self.item_id, 1.0)] for _ in requests]


class StubAdmin:
    """Records calls; ``next`` is the engine the next change returns (or raises)."""

    def __init__(self, engine: Engine, next_engine: Engine) -> None:
        self.engine, self.next, self.calls = engine, next_engine, []

    def _change(self, *args):
        self.calls.append(args)
        if isinstance(self.next, Exception):
            raise self.next
        self.engine = self.next
        return self.next

    def upsert(self, rows):
        return self._change("upsert", rows)

    def delete(self, item_ids):
        return self._change("delete", item_ids)

    def reload(self, model=None):
        return self._change("reload", model)

    def stale(self):
        return False

    def sync(self):
        return self.engine


def _engine(catalog, item_id: str, release=None) -> Engine:
    return Engine({"bm25": SlowSearcher(item_id, release)}, catalog)


def test_admin_is_off_without_a_key_and_refuses_wrong_keys(catalog):
    admin = StubAdmin(_engine(catalog, "i1"), _engine(catalog, "i2"))
    with TestClient(create_app(admin.engine, admin=admin)) as client:
        assert client.post("/admin/reload", json={}, headers=AUTH).status_code == 403
    with TestClient(create_app(admin.engine, admin=admin, admin_key=KEY)) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}, {"Authorization": f"Basic {KEY}"}):
            response = client.post("/admin/reload", json={}, headers=headers)
            assert response.status_code == 401 and KEY not in response.text
    assert admin.calls == []


def test_reload_swaps_the_engine_and_a_refused_one_keeps_the_old(catalog):
    first, second = _engine(catalog, "i1"), _engine(catalog, "i2")
    admin = StubAdmin(first, second)
    with TestClient(create_app(first, admin=admin, admin_key=KEY)) as client:
        search = {"query": "x", "searcher": "bm25"}
        assert client.post("/search", json=search).json()["items"][0]["item_id"] == "i1"
        response = client.post("/admin/reload", json={"model": "runs/models/next"}, headers=AUTH)
        assert response.status_code == 200 and response.json()["generation"] == 1
        assert admin.calls == [("reload", "runs/models/next")]
        assert client.post("/search", json=search).json()["items"][0]["item_id"] == "i2"
        admin.next = DataError("not an artifact directory (no manifest.json)", path="broken")
        response = client.post("/admin/reload", json={"model": "broken"}, headers=AUTH)
        assert response.status_code == 400 and "broken" in response.json()["error"] and "previous" in response.json()["error"]
        assert client.post("/search", json=search).json()["items"][0]["item_id"] == "i2"
        assert client.get("/healthz").json()["generation"] == 1


def test_item_upsert_and_delete_reach_the_admin_with_validated_rows(catalog):
    admin = StubAdmin(_engine(catalog, "i1"), _engine(catalog[:5], "i2"))
    with TestClient(create_app(admin.engine, admin=admin, admin_key=KEY)) as client:
        item = {"item_id": "n1", "title": "violet kimono", "category": ["apparel", "kimono"], "price": 3.5}
        response = client.post("/admin/items", json={"items": [item]}, headers=AUTH)
        assert response.status_code == 200 and response.json()["items"] == 5
        assert admin.calls[0][1][0] == {**item, "brand": None, "attributes": {}, "description": None, "in_stock": True}
        assert client.delete("/admin/items/i3", headers=AUTH).json() == {"status": "deleted", "item_id": "i3", "items": 5}
        admin.next = LookupError("no item 'zz' in the served catalog")
        assert client.delete("/admin/items/zz", headers=AUTH).status_code == 404
        for bad in ({"items": []}, {"items": [{"item_id": "x"}]}, {"items": [{**item, "price": -1}]}, {"items": [{**item, "colour": "red"}]}):
            assert client.post("/admin/items", json=bad, headers=AUTH).status_code == 422
    assert len(admin.calls) == 3


def test_a_search_in_flight_finishes_on_the_engine_it_started_with(catalog):
    release = threading.Event()
    old, new = _engine(catalog, "i1", release), _engine(catalog, "i2")
    admin = StubAdmin(old, new)
    app = create_app(old, admin=admin, admin_key=KEY)

    async def scenario():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            started = asyncio.create_task(client.post("/search", json={"query": "x", "searcher": "bm25"}))
            await asyncio.sleep(0.1)
            swapped = await client.post("/admin/reload", json={}, headers=AUTH)
            release.set()
            after = await client.post("/search", json={"query": "x", "searcher": "bm25"})
            return (await started).json(), swapped.status_code, after.json()

    during, status, after = asyncio.run(scenario())
    assert status == 200
    assert during["items"][0]["item_id"] == "i1" and after["items"][0]["item_id"] == "i2"


def test_catalog_changes_during_a_live_build_are_queued_and_applied_when_it_ends(catalog):
    building, built, changed = _engine(catalog, "i1"), _engine(catalog, "i2"), _engine(catalog[:7], "i3")
    admin = StubAdmin(built, changed)
    with TestClient(create_app(building, admin_key=KEY)) as client:
        item = {"item_id": "n1", "title": "violet kimono"}
        queued = client.post("/admin/items", json={"items": [item]}, headers=AUTH)
        assert queued.status_code == 202 and queued.json()["status"] == "queued"
        assert client.delete("/admin/items/i4", headers=AUTH).status_code == 202
        assert client.post("/admin/reload", json={}, headers=AUTH).status_code == 503  # a reload waits for the build
        assert client.get("/healthz").json()["queued_changes"] == 2 and admin.calls == []
        client.app.state.live.publish(built, admin)  # the build ends
        assert [call[0] for call in admin.calls] == ["upsert", "delete"] and admin.calls[0][1][0]["item_id"] == "n1"
        assert client.post("/search", json={"query": "x", "searcher": "bm25"}).json()["items"][0]["item_id"] == "i3"
        assert client.get("/healthz").json()["queued_changes"] == 0
        assert client.post("/admin/items", json={"items": [item]}, headers=AUTH).status_code == 200  # now applied at once


def test_changes_are_built_on_one_thread_that_yields_the_cores_to_searches(catalog):
    live = Live(Engine({}, []))
    thread, niceness = live.builder.submit(lambda: (threading.current_thread().name, os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))).result()
    assert thread.startswith("onesearch-builder")
    assert niceness >= os.getpriority(os.PRIO_PROCESS, 0)
    if os.getpriority(os.PRIO_PROCESS, 0) < BUILDER_NICE:
        assert niceness == BUILDER_NICE  # Linux: the builder thread alone runs at the lower priority
