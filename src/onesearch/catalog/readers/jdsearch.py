"""JDsearch personalised product search sample (JD.com; CC BY-NC-SA 4.0).

Loader only (3 query rows, too few for a task). Text is term-id-anonymised: terms separated by
``\\x18`` become space-separated tokens. Each query row has no user id, so it becomes user
``jd-<row>``: its typed history (CLICK / CART / ORD, with per-event query and time) comes first
(``seq`` = position in the history), then the current ``search`` with its candidates as
impressions and the labelled ones (1 click, 2 cart, 3 purchase) as events. Policy: events on
items missing from the product file (15 of 230 history items) are dropped and counted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from onesearch.tables import read_text
from onesearch.catalog.schema import INTERACTIONS, ITEMS, Dataset, build_table
from onesearch.errors import DataError

__all__ = ["FILES", "read"]

FILES = ("jdsearch_sample/product_meta_data_sample.txt", "jdsearch_sample/user_behavior_data_sample.txt")
_TERM = "\x18"
_HISTORY_TYPES = {"CLICK": "click", "CART": "cart", "ORD": "order"}
_LABEL_TYPES = {1: "click", 2: "cart", 3: "order"}


def _terms(raw: str) -> str | None:
    return None if raw in ("", "-1") else raw.replace(_TERM, " ")


def _rows(path: Path) -> list[dict[str, str]]:
    lines = read_text(path).splitlines()
    header = lines[0].split("\t")
    rows = []
    for row, line in enumerate(lines[1:], start=1):
        fields = line.split("\t")
        if len(fields) != len(header):
            raise DataError(f"expected {len(header)} tab-separated fields, found {len(fields)}", path=path, row=row)
        rows.append(dict(zip(header, fields)))
    return rows


def _items(path: Path):
    rows = _rows(path)
    return build_table(
        ITEMS,
        {
            "item_id": [r["wid"] for r in rows],
            "title": [_terms(r["name"]) or "" for r in rows],
            "brand": [_terms(r["brand_name"]) for r in rows],
            "category": [[c for c in (_terms(r[f"cate_name_{n}"]) for n in range(1, 5)) if c] for r in rows],
            "seller": [r["shop_id"] for r in rows],
        },
    )


def _query_events(n: int, row: dict[str, str]) -> list[dict[str, Any]]:
    """History events, then the current search, its impressions and its labelled events."""
    user = f"jd-{n}"
    items, kinds = row["history_wid_list"].split("_"), row["history_type_list"].split("_")
    queries, times = row["history_qry_list"].split("_"), row["history_time_list"].split("_")
    events = [
        {"user_id": user, "seq": i, "type": _HISTORY_TYPES.get(kind, "click"), "item_id": item, "query": _terms(query), "time": float(time)}
        for i, (item, kind, query, time) in enumerate(zip(items, kinds, queries, times))
    ]
    now, query = len(items), _terms(row["query"])
    events.append({"user_id": user, "seq": now, "type": "search", "query": query})
    candidates, labels = row["candidate_wid_list"].split("_"), row["candidate_label_list"].split("_")
    for position, (item, label) in enumerate(zip(candidates, labels), start=1):
        events.append({"user_id": user, "seq": now, "type": "impression", "item_id": item, "query": query, "position": position})
        if int(float(label)) in _LABEL_TYPES:
            events.append({"user_id": user, "seq": now, "type": _LABEL_TYPES[int(float(label))], "item_id": item, "query": query})
    return events


def read(root: Path) -> Dataset:
    """Items and typed interactions of the sample; no examples."""
    dataset = Dataset("jdsearch", _items(root / FILES[0]), meta={"task": None, "note": "3 query rows: loader only"})
    events = [e for n, row in enumerate(_rows(root / FILES[1])) for e in _query_events(n, row)]
    known = set(dataset.items["item_id"].to_pylist())
    kept = [e for e in events if e.get("item_id") is None or e["item_id"] in known]
    dataset.note("events dropped: item missing from the product file", len(events) - len(kept))
    dataset.interactions = build_table(INTERACTIONS, {k: [e.get(k) for e in kept] for k in INTERACTIONS.names})
    return dataset
