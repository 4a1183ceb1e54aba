"""``Deployment``: one bundle made live, and every change to it as a fresh ``Engine``.

Contract: ``Deployment.open(bundle, data_root)`` loads the data set, builds or reuses the cascade,
loads the generative model (an anchored, planned model folder) and re-applies the stored ``ServiceState``, so a restart serves what
was served before it. Each change — ``upsert(rows)``, ``delete(ids)``, ``reload(model)`` — builds a
complete new ``Engine`` from the current one and leaves the current one untouched (the service
swaps it in when the call returns), then stores the state; a change that fails raises
``DataError`` and changes nothing, on disk or in memory. Calls must not overlap (the service
holds a lock).

Catalog changes: the served catalog is the bundle's items with the state's deletions and
upserts applied, as the bundle's rows kept plus a tail of upserted rows (``ServiceState.split``).
Every index of a changed catalog is derived from the bundle catalog's own (its base) rather than
rebuilt, so a change costs about the size of the tail, not of the catalog: the cascade's rows,
BM25 and dense index (``Cascade.changed``), the generative model, which writes every item (a
new one is coded through the codebook's encode path and anchored on its text vector; its
lexical indexes derived, ``PlannedModel.changed_searcher``), the shared query understanding
(``QueryUnderstanding.extended``) and the item records. A reload verifies the new model folder (manifest, weights, codebook) and
answers one search with it before it is used.

Replicas: several processes may serve one bundle over the same stored state. A change takes an
exclusive lock on the state file, applies itself to the state as stored (so no replica's change
is lost), saves it and releases the lock. ``stale()`` tells (one ``stat``) whether another
replica saved since this one last read or wrote the state; ``sync()`` then rebuilds the engine
of the stored state (reloading the model when it names another folder).
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from onesearch.artifacts import file_stamp
from onesearch.cascade.build import BuildSettings, build_cascade, cascade_directory
from onesearch.cascade.engine import Cascade
from onesearch.cascade.fusion import FusedSearcher
from onesearch.cascade.searchers import make_searcher
from onesearch.catalog import registry
from onesearch.catalog.context import ContextResolver
from onesearch.decoding.planned import PlannedSearcher
from onesearch.deploy.bundle import Bundle
from onesearch.deploy.state import ItemRow, ServiceState
from onesearch.errors import DataError
from onesearch.generative.folder import PlannedModel
from onesearch.evidence.understanding import QueryUnderstanding
from onesearch.serving.engine import Engine, ItemRecord
from onesearch.threads import builder
from onesearch.types import SearchRequest, Searcher, UserContext

__all__ = ["Deployment", "partial_engine"]

Log = Callable[[str], None]
SAMPLE_USERS = 50
HYBRID_DEPTH = 50  # hits of each searcher the hybrid fuses when the bundle names no beam


@dataclass
class _PlannedModel:
    """A loaded anchored, planned model: it writes every item of a changed catalog (new items are
    coded and anchored on load, ``PlannedModel.searcher``)."""

    path: str
    model: PlannedModel
    beam: int
    last: tuple[Any, PlannedSearcher] | None = None  # the latest catalog's content and its searcher

    def over(self, base_items: pa.Table, state: ServiceState) -> tuple[PlannedSearcher, dict[str, tuple[int, ...]]]:
        """The searcher over the catalog ``base_items`` changed by ``state``, and each item's full code."""
        key = (state.upserts, state.deleted)
        if self.last is None or self.last[0] != key:
            self.last = ((dict(state.upserts), set(state.deleted)), self.model.changed_searcher(base_items, *state.split(base_items), beam=self.beam))
        searcher = self.last[1]
        return searcher, searcher.code_of


def _load_model(path: str, beam: int, encoder: str | None, base_items: pa.Table, state: ServiceState) -> _PlannedModel:
    """Load and verify a model folder: manifest, weights, codebook, one search; what a catalog change needs is loaded too."""
    try:
        loaded = _PlannedModel(path, PlannedModel(Path(path), encoder), beam)
        loaded.model.prepare_changes(base_items)  # the first catalog change costs what every later one does
        searcher = loaded.over(base_items, state)[0]
        searcher.search([SearchRequest("test", UserContext(None))], 1)
    except DataError:
        raise
    except Exception as error:  # a broken artifact: any loader failure means "do not serve it"
        raise DataError(f"cannot serve this model: {type(error).__name__}: {error}", path=path) from None
    return loaded


class Deployment:
    """The live catalog, cascade and model of one bundle (see module docstring)."""

    def __init__(self, spec: Bundle, items: pa.Table, cascade: Cascade, resolver: ContextResolver, state: ServiceState) -> None:
        self.spec = spec
        self.base_items = items
        self.base_cascade = self.cascade = cascade
        self.cascade_changes: tuple[dict, set] = ({}, set())  # the upserts and deletions self.cascade holds
        self.base_understand = QueryUnderstanding.for_items(items, spec.spelling)
        self._records: tuple[np.ndarray | None, list[ItemRecord] | None] = (None, None)  # (the trained codes they show, the bundle catalog's records)
        self.resolver = resolver
        self.users = resolver.active_users(SAMPLE_USERS)
        self.state = state
        model = state.model or spec.model
        self.model = _load_model(model, spec.beam, spec.model_encoder, items, state) if model else None
        self.engine, self.cascade = self._engine(state, self.model)
        self.cascade_changes = (state.upserts, state.deleted)
        self.stamp = file_stamp(state.path)

    @classmethod
    def open(cls, spec: Bundle, data_root: Path, log: Log = print, state_fallback: bool = False) -> Deployment:
        """Load everything the bundle names and re-apply its stored state (``state_fallback``: a
        corrupt state file gives way to its previous generation; else it stops the start)."""
        source = Path(spec.source) if spec.source else None
        dataset = registry.load(spec.task, data_root, source=source)
        directory = cascade_directory(Path(spec.cache), spec.task, dataset.training_fingerprint())
        cascade = build_cascade(dataset, directory, BuildSettings(encoder=spec.encoder), log=log)
        state = ServiceState.load(Path(spec.state) if spec.state else None, fallback=state_fallback)
        if state_fallback and state.path is not None:
            log(f"service state: {state.path} (fell back to its previous generation if it was unreadable)")
        return cls(spec, dataset.items, cascade, ContextResolver(dataset), state)

    def upsert(self, rows: Sequence[ItemRow]) -> Engine:
        """Add or replace items (the generative model writes new ones at once)."""
        with self._locked():
            return self._change(self.state.changed(upserts=rows), self.model)

    def delete(self, item_ids: Sequence[str]) -> Engine:
        """Remove items (they leave every index, now and after restarts); unknown ids raise ``LookupError``."""
        with self._locked():
            missing = sorted(set(item_ids) - set(self.engine.items))
            if missing:
                raise LookupError(f"no item {missing[0]!r} in the served catalog" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
            return self._change(self.state.changed(deleted=item_ids), self.model)

    def reload(self, model: str | None = None) -> Engine:
        """Serve the model folder ``model`` (default: the one served now, re-read from disk)."""
        with self._locked():
            path = model or (self.model.path if self.model else self.spec.model)
            if not path:
                raise DataError("this bundle serves no generative model: name one to load")
            loaded = _load_model(path, self.spec.beam, self.spec.model_encoder, self.base_items, self.state)
            return self._change(self.state.changed(model=path), loaded)

    def stale(self) -> bool:
        """True when the stored state changed since this deployment last read or wrote it."""
        return file_stamp(self.state.path) != self.stamp

    def sync(self) -> Engine:
        """The engine of the stored state (another replica's changes applied); the current one
        when nothing changed."""
        with self._locked():
            return self.engine

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the state's inter-process lock, with the stored state applied first; the block
        (a change) runs with one thread per library (``threads.builder``), beside the searches."""
        path = self.state.path
        if path is None:
            with builder():
                yield
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                with builder():
                    if self.stale():
                        self._adopt(ServiceState.load(path))
                    yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _adopt(self, stored: ServiceState) -> None:
        """Serve the stored state another replica saved (its model folder loaded when it differs)."""
        path = stored.model or self.spec.model
        model = self.model
        if path and (model is None or model.path != path):
            model = _load_model(path, self.spec.beam, self.spec.model_encoder, self.base_items, stored)
        self._use(stored, model, self._engine(stored, model))

    def _change(self, state: ServiceState, model: _PlannedModel | None) -> Engine:
        built = self._engine(state, model)
        state.save()
        return self._use(state, model, built)

    def _use(self, state: ServiceState, model: _PlannedModel | None, built: tuple[Engine, Cascade]) -> Engine:
        self.state, self.model = state, model
        self.engine, self.cascade = built
        self.cascade_changes = (state.upserts, state.deleted)
        self.stamp = file_stamp(state.path)
        return self.engine

    def _engine(self, state: ServiceState, model: _PlannedModel | None) -> tuple[Engine, Cascade]:
        """The engine of ``state`` and ``model``, and the cascade (the current one when the catalog is unchanged, e.g. a reload; else derived
        from the base cascade, so only texts it never saw are encoded)."""
        change, tail = state.split(self.base_items)
        if not len(change):
            raise DataError("the change would leave the catalog empty")
        same = (state.upserts, state.deleted) == self.cascade_changes
        cascade = self.cascade if same else self.base_cascade.changed(change, tail, self.cascade.tail_vectors)
        searchers: dict[str, Searcher] = {name: make_searcher(name, cascade) for name in ("bm25", "cascade")}
        codes: dict[str, tuple[int, ...]] = {}
        if model is not None:
            generative, codes = model.over(self.base_items, state)
            searchers["generative"] = generative
            searchers["hybrid"] = FusedSearcher("hybrid", [generative, searchers["bm25"]], depth=self.spec.beam or HYBRID_DEPTH)
        records = change.rows(self._base_records(model, codes), _records(tail, codes, state))
        return Engine(searchers, records, self.resolver.user, self.users, self.base_understand.extended(tail).requests), cascade

    def _base_records(self, model: _PlannedModel | None, codes: dict[str, tuple[int, ...]]) -> list[ItemRecord]:
        """The bundle catalog's item records with their codes, made once per set of trained codes
        (a reloaded model with the same codes keeps them; once without a model; else every time)."""
        if model is not None and not model.model.trained_on(self.base_items):
            return _records(self.base_items, codes, ServiceState())  # the model coded this catalog itself: its codes may differ each time
        key = None if model is None else model.model.codes
        held, records = self._records
        if records is None or not (held is key or (held is not None and key is not None and np.array_equal(held, key))):
            self._records = (key, _records(self.base_items, codes, ServiceState()))
        return self._records[1]  # type: ignore[return-value]


def partial_engine(items: pa.Table, resolver: ContextResolver, searchers: dict[str, Searcher], understand: QueryUnderstanding) -> Engine:
    """An engine of some searchers over the unchanged catalog, while the rest is still being built
    (no codes to show, no catalog changes yet), behind the bundle's query understanding."""
    return Engine(searchers, _records(items, {}, ServiceState()), resolver.user, resolver.active_users(SAMPLE_USERS), understand.requests)


def _records(items: pa.Table, codes: dict[str, tuple[int, ...]], state: ServiceState) -> list[ItemRecord]:
    columns = items.select(["item_id", "title", "brand", "category", "price"]).to_pydict()
    return [
        ItemRecord(item, title, brand, tuple(category or ()), price, "-".join(map(str, codes[item])) if item in codes else None, state.in_stock(item))
        for item, title, brand, category, price in zip(columns["item_id"], columns["title"], columns["brand"], columns["category"], columns["price"])
    ]
