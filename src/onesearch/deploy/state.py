"""``ServiceState``: what a running service changed, kept on disk so a restart keeps it.

Contract: the state is the catalog items upserted (full rows, by id), the ids deleted, and the
model folder swapped in by a reload (None: the bundle's own). ``split(items)`` gives the catalog
as served: the bundle's items minus deleted and upserted ids (the rows kept), then the upserted
rows in the items schema (the tail), as an ``evidence.items.RowChange`` of the bundle's catalog,
so indexes can be derived rather than rebuilt (``RowChange.table`` makes it one table);
``in_stock`` of each item. ``save`` writes the whole state to a temp file and
renames it over the old one, so a crash leaves either the old or the new state, never half;
the state it replaces is kept as the previous generation (``<state>.prev``). A disk that cannot
take the write (full, read-only) raises ``OSError`` and leaves both files as they were. ``load``
refuses a corrupt or unreadable state with one ``DataError`` naming the file, unless asked to
fall back to the previous generation. A state without a path lives in memory only.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from onesearch.catalog.schema import ITEMS, build_table
from onesearch.errors import DataError
from onesearch.evidence.items import RowChange

__all__ = ["ItemRow", "ServiceState", "previous_generation"]

FORMAT = 1
ItemRow = Mapping[str, Any]
COLUMNS = ("item_id", "title", "brand", "category", "attributes", "price", "description")


@dataclass
class ServiceState:
    """Upserted rows, deleted ids and the reloaded model of one service."""

    path: Path | None = None
    upserts: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    model: str | None = None

    @classmethod
    def load(cls, path: Path | None, fallback: bool = False) -> ServiceState:
        """The state stored at ``path`` (empty when the file does not exist yet); ``fallback``: a
        corrupt one is replaced by its previous generation (module docstring)."""
        if path is None or not path.exists():
            return cls(path)
        try:
            return cls._read(path, path)
        except DataError as error:
            previous = previous_generation(path)
            if not fallback:
                hint = f"; its previous generation is {previous} (serve with --state-fallback to start from it)" if previous.exists() else ""
                raise DataError(f"{error.problem}{hint}", path=path) from None
            if not previous.exists():
                raise DataError(f"{error.problem}; no previous generation to fall back to", path=path) from None
            return cls._read(previous, path)

    @classmethod
    def _read(cls, source: Path, path: Path) -> ServiceState:
        """The state in ``source``, to be saved to ``path`` from now on."""
        try:
            raw = json.loads(source.read_text(encoding="utf-8"))
            if raw.get("format") != FORMAT:
                raise ValueError(f"format {raw.get('format')!r}, expected {FORMAT}")
            return cls(path, dict(raw["upserts"]), set(raw["deleted"]), raw.get("model"))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise DataError(f"unreadable service state: {error}", path=source) from None

    def changed(self, upserts: Iterable[ItemRow] = (), deleted: Iterable[str] = (), model: str | None = None) -> ServiceState:
        """A copy with ``upserts`` and ``deleted`` applied in that order (and ``model`` if given)."""
        new = ServiceState(self.path, dict(self.upserts), set(self.deleted), model or self.model)
        for row in upserts:
            new.upserts[row["item_id"]] = dict(row)
            new.deleted.discard(row["item_id"])
        for item_id in deleted:
            new.upserts.pop(item_id, None)
            new.deleted.add(item_id)
        return new

    def split(self, items: pa.Table) -> tuple[RowChange, pa.Table]:
        """The catalog as served, as ``items``' rows kept and the tail of upserted rows (items schema)."""
        drop = pa.array(sorted(self.deleted | set(self.upserts)), type=pa.string())
        kept = np.flatnonzero(pc.invert(pc.is_in(items["item_id"], value_set=drop)).to_numpy(zero_copy_only=False)).astype(np.int64)
        rows = list(self.upserts.values())
        columns: dict[str, list[Any]] = {name: [row.get(name) for row in rows] for name in COLUMNS}
        columns["attributes"] = [sorted((row.get("attributes") or {}).items()) for row in rows]
        return RowChange(kept, len(rows)), build_table(ITEMS, columns)

    def in_stock(self, item_id: str) -> bool:
        """False only for items upserted with ``in_stock`` false."""
        return bool(self.upserts.get(item_id, {}).get("in_stock", True))

    def save(self) -> None:
        """Write the state atomically (no-op without a path)."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {"format": FORMAT, "model": self.model, "deleted": sorted(self.deleted), "upserts": self.upserts}
        handle, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(body, out, ensure_ascii=False)
                out.flush()
                os.fsync(out.fileno())
            if self.path.exists():
                _keep_previous(self.path)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def previous_generation(path: Path) -> Path:
    """Where the state before the last save is kept."""
    return path.with_name(path.name + ".prev")


def _keep_previous(path: Path) -> None:
    """Make the current state file the previous generation without ever removing it (a hard
    link renamed into place; a copy where links are not supported)."""
    link = path.with_name(f".{path.name}.prev-{os.getpid()}")
    link.unlink(missing_ok=True)
    try:
        os.link(path, link)
    except OSError:
        shutil.copy2(path, link)
    os.replace(link, previous_generation(path))
