"""Any loaded data set written as a shop in the generic input format (``readers.generic``).

Contract: ``write_generic(dataset, out)`` writes ``out/items.csv`` (``item_id``, ``title``,
``brand``, ``category`` as levels joined by " > ", ``price``, ``seller``, ``description``, then one
column per attribute key) and, when the data set has interactions, ``out/interactions.csv``
(``user_id``, ``type``, ``item_id``, ``query``, ``session_id``, ``time`` = the interaction's
sequence number); the directory is replaced atomically. Reading it back with the ``generic``
reader gives the same items (attribute values as strings). A level that itself holds " > " is
written with ">" replaced by "›" so the path splits back into the same number of levels.
"""

from __future__ import annotations

import csv
from pathlib import Path

from onesearch.artifacts import atomic_directory
from onesearch.catalog.schema import Dataset

__all__ = ["write_generic"]

ITEM_COLUMNS = ("item_id", "title", "brand", "category", "price", "seller", "description")
EVENT_COLUMNS = ("user_id", "type", "item_id", "query", "session_id", "time")


def write_generic(dataset: Dataset, out: Path) -> dict[str, int]:
    """Write ``dataset`` as a generic shop into ``out``; returns the rows written per file."""
    items = dataset.items.to_pylist()
    keys = sorted({key for item in items for key, _ in (item["attributes"] or [])} - set(ITEM_COLUMNS))
    with atomic_directory(out) as tmp:
        with (tmp / "items.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=[*ITEM_COLUMNS, *keys])
            writer.writeheader()
            for item in items:
                attributes = dict(item["attributes"] or [])
                writer.writerow({**{k: attributes.get(k, "") for k in keys}, **{k: _cell(item, k) for k in ITEM_COLUMNS}})
        written = {"items.csv": len(items)}
        if dataset.interactions.num_rows:
            with (tmp / "interactions.csv").open("w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=EVENT_COLUMNS)
                writer.writeheader()
                for event in dataset.interactions.to_pylist():
                    writer.writerow({k: "" if event.get(k) is None else event[k] for k in EVENT_COLUMNS[:-1]} | {"time": event["seq"]})
            written["interactions.csv"] = dataset.interactions.num_rows
    return written


def _cell(item: dict, key: str) -> str:  # type: ignore[type-arg]
    value = item[key]
    if value is None:
        return ""
    if key == "category":
        return " > ".join(level.replace(">", "›") for level in value)
    return str(value)
