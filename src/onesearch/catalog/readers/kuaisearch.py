"""KuaiSearch demo (Kuaishou; the OneSearch paper's data format; Chinese).

Loaders only, no task: the four demo files do not join (ids are independent samples). Items get
category path level1 > level2 > level3 (``UNKNOWN`` levels dropped), brand, seller. Users get
gender / age bucket / location as profile. Interactions: each recall session is a ``search``
event plus its impressions, clicks and purchases; each rank row is an impression, click or order
of its target item. ``seq`` and ``time`` are the files' ``time_index``. Policy: interactions on
items outside ``items.jsonl`` are kept (the demo does not join) and counted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.compute as pc

from onesearch.tables import read_jsonl
from onesearch.catalog.schema import INTERACTIONS, ITEMS, USERS, Dataset, build_table

__all__ = ["FILES", "read"]

FILES = tuple(f"kuaisearch_demo/{n}.jsonl" for n in ("items", "users", "recall", "rank"))
_UNKNOWN = "UNKNOWN"
_PROFILE = ("gender", "age_bucket", "fre_country", "fre_province", "fre_city")


def _category(item: dict[str, Any]) -> list[str]:
    levels = (item.get(f"category_level{n}_name") for n in (1, 2, 3))
    return [level for level in levels if level and level != _UNKNOWN]


def _event(record: dict[str, Any], kind: str, item: Any = None, query: str | None = None, position: int | None = None) -> dict[str, Any]:
    return {
        "user_id": str(record["user_id"]),
        "seq": int(record["time_index"]),
        "type": kind,
        "item_id": None if item is None else str(item),
        "query": query,
        "session_id": str(record["session_id"]),
        "time": float(record["time_index"]),
        "position": position,
    }


def _recall_events(record: dict[str, Any]) -> list[dict[str, Any]]:
    events = [_event(record, "search", query=record["query"])]
    for kind, key in (("impression", "impressed_item_ids"), ("click", "clicked_item_ids"), ("order", "purchased_item_ids")):
        events += [_event(record, kind, item, record["query"], n) for n, item in enumerate(record.get(key) or [], start=1)]
    return events


def _rank_event(record: dict[str, Any]) -> dict[str, Any]:
    kind = "order" if record.get("is_purchased") else "click" if record.get("is_clicked") else "impression"
    return _event(record, kind, record["target_item_id"], record["query"])


def read(root: Path) -> Dataset:
    """Items, users and interactions of the demo; no examples."""
    items = read_jsonl(root / FILES[0], ["item_id", "item_title"])
    users = read_jsonl(root / FILES[1], ["user_id"])
    recall = read_jsonl(root / FILES[2], ["user_id", "session_id", "time_index", "query"])
    rank = read_jsonl(root / FILES[3], ["user_id", "session_id", "time_index", "query", "target_item_id"])
    dataset = Dataset(
        "kuaisearch",
        build_table(
            ITEMS,
            {
                "item_id": [str(i["item_id"]) for i in items],
                "title": [i["item_title"] for i in items],
                "brand": [i.get("brand_name") for i in items],
                "category": [_category(i) for i in items],
                "seller": [i.get("seller_name") for i in items],
            },
        ),
        users=build_table(
            USERS,
            {"user_id": [str(u["user_id"]) for u in users], "profile": [{k: str(u[k]) for k in _PROFILE if u.get(k)} for u in users]},
        ),
        meta={"task": None, "note": "demo files do not join; loaders and Chinese text only", "time_unit": "time_index"},
    )
    events = [e for r in recall for e in _recall_events(r)] + [_rank_event(r) for r in rank]
    dataset.interactions = build_table(INTERACTIONS, {k: [e[k] for e in events] for k in INTERACTIONS.names})
    dangling = pc.and_(pc.is_valid(dataset.interactions["item_id"]), pc.invert(pc.is_in(dataset.interactions["item_id"], value_set=dataset.items["item_id"])))
    dataset.note("interactions on items outside items.jsonl (demo ids do not join)", pc.sum(dangling).as_py() or 0)
    return dataset
