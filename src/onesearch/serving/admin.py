"""The admin API: hot reload and catalog changes, behind an API key.

Routes: ``POST /admin/reload`` {model?}, ``POST /admin/items`` {items}, ``DELETE /admin/items/{id}``.

Contract: every admin call needs ``Authorization: Bearer <key>`` (401 without or with a wrong
one; 403 when the service was started with no key: admin disabled). While a live build has not
yet made the service's ``Admin``, a reload answers 503 and a catalog change 202: it is queued and
applied, in order, when the build publishes its ``Admin`` (``Live.publish``). The key is compared in
constant time and never logged or echoed. Calls run one at a time on the builder: one worker
thread of its own, at a lower CPU priority than the threads that answer searches (``BUILDER_NICE``,
where the system allows it), so searches go on meanwhile and keep the cores first; the ``Admin`` builds a complete new ``Engine`` and only then is it
swapped in (one reference assignment): searches already queued finish on the engine they
started with. Replicas of one service share the stored state: each applies the others'
changes before it answers (``Live.refresh``), so a search answered by any replica after an
acknowledged change reflects it. A refused change (``DataError``: a broken model folder, an unknown item) answers
400 (404 for an unknown item: ``LookupError``; 503 when the state cannot be stored — a full or
read-only disk, ``OSError``) and the old engine keeps serving.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from fastapi import Depends, FastAPI, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from onesearch.errors import DataError
from onesearch.memory import release_memory
from onesearch.serving.engine import Engine
from onesearch.serving.schemas import ErrorBody, ItemsBody, ReloadBody

__all__ = ["ADMIN_ERRORS", "Admin", "Live", "add_admin_routes", "key_check"]

BUILDER_NICE = 10  # the builder thread's niceness above the searches' (Linux: per thread)
BEARER = HTTPBearer(auto_error=False, description="The service's admin key.")
ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {status: {"model": ErrorBody} for status in (400, 401, 403, 404, 413, 422, 503)}


class Admin(Protocol):
    """What changes a running service (``deploy.Deployment``); each call returns the new engine."""

    engine: Engine

    def upsert(self, rows: Sequence[dict[str, Any]]) -> Engine: ...

    def delete(self, item_ids: Sequence[str]) -> Engine: ...

    def reload(self, model: str | None = None) -> Engine: ...

    def stale(self) -> bool:
        """True when another replica changed the shared state since this one last read it."""
        ...

    def sync(self) -> Engine:
        """The engine of the shared state as it is now (another replica's changes applied)."""
        ...


class Live:
    """The engine now served and the admin that changes it; admin calls swap it, one at a time,
    and a live build publishes each stage's engine (and, once built, the admin)."""

    def __init__(self, engine: Engine, admin: Admin | None = None) -> None:
        self.engine = engine
        self.admin = admin
        self.lock = asyncio.Lock()
        self.generation = 0
        self.pending: list[tuple[str, Any]] = []  # catalog changes posted during a live build, in order
        self.refused: list[str] = []  # queued changes the finished build refused (why)
        self._pending_lock = threading.Lock()
        self.builder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="onesearch-builder", initializer=_lower_priority)

    def publish(self, engine: Engine, admin: Admin | None = None) -> None:
        """Serve ``engine`` from now on (one reference assignment; searches already queued finish
        on the old one). With the build's ``admin``, the queued catalog changes are applied first, in order."""
        if admin is not None:
            with self._pending_lock:
                for method, argument in self.pending:
                    try:
                        engine = getattr(admin, method)(argument)
                    except (DataError, LookupError, OSError) as error:
                        self.refused.append(f"{method}: {error}")
                self.pending.clear()
                self.admin = admin
        self.engine = engine
        self.generation += 1

    def queue(self, method: str, argument: Any) -> bool:
        """Keep a catalog change for the end of the live build; False when the build is already
        done (apply it now instead)."""
        with self._pending_lock:
            if self.admin is not None:
                return False
            self.pending.append((method, argument))
            return True

    async def refresh(self) -> None:
        """Apply what other replicas changed in the shared state, if anything, before answering
        (a ``stat`` per request when nothing changed); a state that cannot be read leaves the
        served engine in place, so searches go on."""
        admin = self.admin
        if admin is not None and admin.stale():
            try:
                await self.swap(admin.sync)
            except HTTPException:
                pass  # the stored state cannot be read now: keep answering from the engine served

    async def swap(self, change: Any, *args: Any) -> Engine:
        """Run ``change(*args)`` in a worker thread and serve the engine it returns."""
        async with self.lock:
            try:
                engine = await asyncio.get_running_loop().run_in_executor(self.builder, change, *args)
            except DataError as error:
                raise HTTPException(400, f"refused, still serving the previous state: {error}") from None
            except LookupError as error:
                raise HTTPException(404, str(error.args[0] if error.args else error)) from None
            except OSError as error:
                raise HTTPException(503, f"cannot store the change ({error.strerror or type(error).__name__}): "
                                         "the previous state keeps serving; searches go on") from None
            self.engine = engine
            self.generation += 1
        await asyncio.get_running_loop().run_in_executor(self.builder, release_memory)  # the replaced engine's memory goes back to the system
        return engine


def _lower_priority() -> None:
    """Make the calling thread yield the cores to the search threads (Linux niceness is per thread;
    elsewhere, or where not permitted, nothing changes)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BUILDER_NICE)
    except (OSError, AttributeError):
        pass


def key_check(key: str | None) -> Callable[..., None]:
    """A dependency that lets a call through only with ``Authorization: Bearer <key>``
    (401 without or with a wrong key, 403 when ``key`` is unset; compared in constant time)."""

    def check(credentials: HTTPAuthorizationCredentials | None = Depends(BEARER)) -> None:
        refused = HTTPException(401, "admin calls need the header 'Authorization: Bearer <admin key>'", headers={"WWW-Authenticate": "Bearer"})
        if credentials is None:
            raise refused
        if not key:
            raise HTTPException(403, "the admin API is disabled (start the service with an admin key)")
        if not hmac.compare_digest(credentials.credentials.encode(), key.encode()):
            raise refused

    return check


def add_admin_routes(app: FastAPI, live: Live, key: str | None) -> None:
    """Mount the admin routes over ``live.admin`` (see module docstring)."""

    checked = key_check(key)

    def authorize(_: None = Depends(checked)) -> Admin:
        """Checked before the body is validated, so an unauthorized call learns nothing."""
        if live.admin is None:
            raise HTTPException(503, "the service is still building: reloads open when it is done (catalog changes are queued)")
        return live.admin

    async def change(method: str, argument: Any) -> Engine | None:
        """Apply a catalog change now, or queue it while the live build runs (None: queued)."""
        admin = live.admin
        if admin is None and live.queue(method, argument):
            return None
        return await live.swap(getattr(live.admin, method), argument)

    @app.post("/admin/reload", responses=ADMIN_ERRORS, tags=["admin"])
    async def reload(body: ReloadBody, owner: Admin = Depends(authorize)) -> dict[str, Any]:
        """Load a model folder, verify it, and serve it; a broken one is refused."""
        engine = await live.swap(owner.reload, body.model)
        return {"status": "reloaded", "generation": live.generation, "items": len(engine.items), "searchers": sorted(engine.searchers)}

    @app.post("/admin/items", responses=ADMIN_ERRORS, tags=["admin"])
    async def upsert(body: ItemsBody, response: Response, _: None = Depends(checked)) -> dict[str, Any]:
        """Add or replace items; they are searchable when this answers (202 during a live build:
        queued, applied when it ends)."""
        engine = await change("upsert", [item.model_dump() for item in body.items])
        if engine is None:
            response.status_code = 202
            return {"status": "queued", "upserted": len(body.items), "detail": "applied when the live build ends"}
        return {"status": "upserted", "upserted": len(body.items), "items": len(engine.items)}

    @app.delete("/admin/items/{item_id}", responses=ADMIN_ERRORS, tags=["admin"])
    async def delete(item_id: str, response: Response, _: None = Depends(checked)) -> dict[str, Any]:
        """Remove an item from every index, for good (until upserted again); 202 during a live build."""
        engine = await change("delete", [item_id])
        if engine is None:
            response.status_code = 202
            return {"status": "queued", "item_id": item_id, "detail": "applied when the live build ends"}
        return {"status": "deleted", "item_id": item_id, "items": len(engine.items)}
