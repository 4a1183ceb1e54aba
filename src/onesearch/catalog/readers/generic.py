"""The generic input format: how a shop brings its own catalog and logs.

A source directory holds ``items``, and optionally ``users`` and ``interactions``, each as
``.csv``, ``.jsonl`` or ``.parquet`` (text files may be ``.gz``):

- items: ``item_id`` and ``title`` required; optional ``brand``, ``category`` (a list, or one
  string with levels separated by " > "), ``price`` (number), ``seller``, ``description``;
  every other column becomes a string attribute.
- users: ``user_id`` required; every other column becomes a profile field.
- interactions: ``user_id`` and ``type`` (search, impression, click, cart, order, follow)
  required; ``item_id`` (required unless type is search), ``query``, ``session_id``, ``time``
  (number, any increasing unit), ``position`` (integer). Rows are ordered per user by ``time``
  (file order breaks ties, and is the order when there is no time column).

Validation is strict: a missing column, a wrong type, a duplicate id, an unknown item, user or
type, an empty or undecodable file each raise ``DataError`` naming file and row.

Task ``generic``: one example per (user, session or moment, query) with engaged items as
targets (gain: click 1, cart 2, order 3, the strongest per item; all relevant); history is the
user's earlier interactions; the latest 10% of examples by time are test, the 10% before valid.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from onesearch.tables import TABLE_SUFFIXES, first_duplicate, read_records, require_known, to_float, to_int
from onesearch.catalog.schema import EXAMPLES, INTERACTIONS, ITEMS, USERS, Dataset, build_table
from onesearch.catalog.text import clean_text
from onesearch.errors import DataError
from onesearch.types import InteractionType

__all__ = ["ENGAGEMENT_GAIN", "find_file", "read"]

ENGAGEMENT_GAIN = {"click": 1.0, "cart": 2.0, "order": 3.0}
_ITEM_FIELDS = ("item_id", "title", "brand", "category", "price", "seller", "description")
_EVENT_FIELDS = ("user_id", "type", "item_id", "query", "session_id", "time", "position")
_TYPES = [t.value for t in InteractionType]
_HOLDOUT = 0.1


def find_file(source: Path, stem: str, required: bool) -> Path | None:
    """``<source>/<stem>.<suffix>`` for the one suffix present; ``DataError`` if none (when required) or several."""
    found = [source / f"{stem}{suffix}" for suffix in TABLE_SUFFIXES if (source / f"{stem}{suffix}").is_file()]
    if len(found) > 1:
        raise DataError(f"several {stem} files: {', '.join(p.name for p in found)}; keep one", path=source)
    if not found and required:
        raise DataError(f"no {stem} file (expected {stem} with one of {', '.join(TABLE_SUFFIXES)})", path=source)
    return found[0] if found else None


def _unique(frame: pd.DataFrame, column: str, path: Path) -> None:
    row = first_duplicate(frame[column])
    if row is not None:
        raise DataError(f"duplicate {column} {frame[column].iloc[row]!r}", path=path, row=row + 1)


def _not_null(frame: pd.DataFrame, column: str, path: Path, mask: pd.Series | None = None) -> None:
    empty = frame[column].isna() if mask is None else frame[column].isna() & mask
    if empty.any():
        raise DataError(f"column {column!r} is empty", path=path, row=int(empty.to_numpy().nonzero()[0][0]) + 1)


def _category(value: object) -> list[str] | None:
    if value is None:
        return None
    levels = list(value) if isinstance(value, (list, tuple, np.ndarray)) else str(value).split(">")
    return [str(level).strip() for level in levels if str(level).strip()] or None


def _extras(frame: pd.DataFrame, known: tuple[str, ...]) -> list[dict[str, str] | None]:
    extra = [c for c in frame.columns if c not in known]
    return [{c: str(r[c]) for c in extra if r[c] is not None} or None for r in frame[extra].to_dict("records")]


def read_items(path: Path) -> pa.Table:
    """Strictly validated items file -> canonical items table."""
    frame = read_records(path, ["item_id", "title"])
    frame["item_id"] = frame["item_id"].map(lambda v: None if v is None else str(v))
    _not_null(frame, "item_id", path)
    _unique(frame, "item_id", path)
    _not_null(frame, "title", path)
    columns = {"item_id": frame["item_id"], "title": frame["title"].map(lambda v: clean_text(str(v)))}
    if "price" in frame:
        columns["price"] = to_float(frame["price"], path, "price")
    if "category" in frame:
        columns["category"] = frame["category"].map(_category)
    for name in ("brand", "seller", "description"):
        if name in frame:
            columns[name] = frame[name].map(lambda v: None if v is None else clean_text(str(v)))
    columns["attributes"] = _extras(frame, _ITEM_FIELDS)
    return build_table(ITEMS, columns)


def read_users(path: Path) -> pa.Table:
    """Strictly validated users file -> canonical users table."""
    frame = read_records(path, ["user_id"])
    frame["user_id"] = frame["user_id"].map(lambda v: None if v is None else str(v))
    _not_null(frame, "user_id", path)
    _unique(frame, "user_id", path)
    return build_table(USERS, {"user_id": frame["user_id"], "profile": _extras(frame, ("user_id",))})


def read_interactions(path: Path, items: pa.Table, users: pa.Table | None) -> pd.DataFrame:
    """Strictly validated interactions, typed, with per-user ``seq``; rows keep file order."""
    frame = read_records(path, ["user_id", "type"])
    for column in ("user_id", "item_id", "session_id"):
        if column in frame:
            frame[column] = frame[column].map(lambda v: None if v is None else str(v))
    frame["type"] = frame["type"].map(lambda v: None if v is None else str(v).strip().lower())
    _not_null(frame, "user_id", path)
    require_known(frame["type"], _TYPES, path, "type", what=f"interaction types ({', '.join(_TYPES)})")
    _not_null(frame, "type", path)
    if "item_id" not in frame:
        frame["item_id"] = None
    _not_null(frame, "item_id", path, mask=frame["type"] != "search")
    require_known(frame["item_id"], items["item_id"].to_pylist(), path, "item_id")
    if users is not None and users.num_rows:
        require_known(frame["user_id"], users["user_id"].to_pylist(), path, "user_id", what="users file")
    frame["time"] = to_float(frame["time"], path, "time") if "time" in frame else np.nan
    frame["position"] = to_int(frame["position"], path, "position") if "position" in frame else pd.NA
    order = frame.assign(_row=np.arange(len(frame))).sort_values(["user_id", "time", "_row"], kind="stable", na_position="first")
    frame.loc[order.index, "seq"] = order.groupby("user_id").cumcount().to_numpy()
    frame["seq"] = frame["seq"].astype("int64")
    return frame


def _interaction_table(frame: pd.DataFrame) -> pa.Table:
    columns = {name: frame[name] for name in INTERACTIONS.names if name in frame}
    columns["position"] = frame["position"].astype("Int32") if "position" in frame else None
    return build_table(INTERACTIONS, {k: v for k, v in columns.items() if v is not None})


def search_examples(events: pd.DataFrame) -> pa.Table:
    """Engaged items of each (user, session or seq, query) as one example, split by recency."""
    engaged = events[events["type"].isin(list(ENGAGEMENT_GAIN)) & events.get("query", pd.Series(None, index=events.index)).notna()]
    if engaged.empty:
        return EXAMPLES.empty_table()
    engaged = engaged.assign(
        gain=engaged["type"].map(ENGAGEMENT_GAIN),
        moment=engaged["session_id"].fillna(engaged["seq"].astype(str)) if "session_id" in engaged else engaged["seq"].astype(str),
        _row=np.arange(len(engaged)),
    )
    groups = engaged.groupby(["user_id", "moment", "query"], sort=False)
    summary = groups.agg(start=("seq", "min"), time=("time", "min"), row=("_row", "min")).sort_values(["time", "row"], na_position="first")
    n = len(summary)
    held = int(round(n * _HOLDOUT))
    splits = np.array(["train"] * n, dtype=object)
    splits[n - held :] = "test"
    splits[n - 2 * held : n - held] = "valid"
    summary["split"] = splits
    best = engaged.groupby(["user_id", "moment", "query", "item_id"], sort=False)["gain"].max().reset_index()
    best = best.sort_values("gain", ascending=False, kind="stable")
    targets = {key: list(zip(g["item_id"], g["gain"])) for key, g in best.groupby(["user_id", "moment", "query"], sort=False)}
    return build_table(
        EXAMPLES,
        {
            "example_id": [f"gx-{i}" for i in range(n)],
            "split": summary["split"].to_numpy(),
            "query": [q for _, _, q in summary.index],
            "user_id": [u for u, _, _ in summary.index],
            "history_end": summary["start"].astype("int64").to_numpy(),
            "targets": [[{"item_id": i, "gain": float(g), "relevant": True} for i, g in targets[key]] for key in summary.index],
        },
    )


def read(source: Path) -> Dataset:
    """A user-provided source directory -> validated dataset with the ``generic`` task."""
    source = Path(source)
    if not source.is_dir():
        raise DataError("source directory not found", path=source)
    items = read_items(find_file(source, "items", required=True))
    users_path = find_file(source, "users", required=False)
    users = read_users(users_path) if users_path else None
    dataset = Dataset(source.name or "generic", items, meta={"task": "generic search log", "labels": "click 1, cart 2, order 3"})
    if users is not None:
        dataset.users = users
    events_path = find_file(source, "interactions", required=False)
    if events_path is not None:
        events = read_interactions(events_path, items, users)
        dataset.interactions = _interaction_table(events)
        dataset.examples = search_examples(events)
    return dataset
