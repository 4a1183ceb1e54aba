"""Best Buy catalog with simulated click sessions for 13 queries.

Loader only. Items: UPC (string, as given) -> name, manufacturer as brand, short + long
description (markup stripped). Policy: a UPC listed twice keeps its first row (2,035 such UPCs,
counted). Sessions: each session is anonymous user ``bb-<sess_id>`` with one impression per
ranked doc (``position`` = rank + 1) and a click where clicked; doc ids lost their leading zeros,
so they are zero-filled to 12 digits; docs still not in the catalog are dropped and counted.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from onesearch.tables import read_csv, to_int
from onesearch.catalog.schema import INTERACTIONS, ITEMS, Dataset, build_table
from onesearch.catalog.text import clean_markup, clean_text

__all__ = ["FILES", "SESSION_QUERIES", "read"]

SESSION_QUERIES = (
    "bluray", "blue_ray", "dryer", "headphones", "ipad", "iphone", "kindle", "lcd_tv",
    "macbook", "nook", "star_trek", "star_wars", "transformers_dark_of_the_moon",
)  # fmt: skip
FILES = ("bestbuy/products.csv.gz", *(f"bestbuy/sessions/{q}_sessions.gz" for q in SESSION_QUERIES))
_UPC_DIGITS = 12


def _description(short: str | None, long: str | None) -> str | None:
    return clean_markup(" ".join(part for part in (short, long) if part)) or None


def read(root: Path) -> Dataset:
    """Deduplicated catalog plus impression/click interactions from the 13 session files."""
    products = read_csv(root / FILES[0], ["upc", "name"], escapechar="\\", skipinitialspace=True)
    duplicate = products["upc"].duplicated()
    products = products[~duplicate]
    items = build_table(
        ITEMS,
        {
            "item_id": products["upc"],
            "title": products["name"].map(clean_text).fillna(""),
            "brand": products.get("manufacturer").map(clean_text),
            "description": [_description(s, l) for s, l in zip(products.get("short_description"), products.get("long_description"))],
        },
    )
    dataset = Dataset("bestbuy", items, meta={"task": None, "note": "13 simulated-session queries: loader only"})
    dataset.note("duplicate UPC rows dropped (first kept)", int(duplicate.sum()))
    sessions = pd.concat([_read_sessions(root / name) for name in FILES[1:]], ignore_index=True)
    known = sessions["item_id"].isin(set(products["upc"]))
    dataset.note("session rows dropped: doc not in catalog after zero-fill", int((~known).sum()))
    dataset.interactions = _interactions(sessions[known])
    return dataset


def _read_sessions(path: Path) -> pd.DataFrame:
    frame = read_csv(path, ["sess_id", "query", "rank", "clicked_doc_id", "clicked"])
    frame["rank"] = to_int(frame["rank"], path, "rank")
    frame["item_id"] = frame["clicked_doc_id"].str.strip().str.zfill(_UPC_DIGITS)
    frame["clicked"] = frame["clicked"].str.strip().str.lower() == "true"
    return frame


def _interactions(sessions: pd.DataFrame):
    clicks = sessions[sessions["clicked"]]
    events = pd.concat([sessions.assign(type="impression"), clicks.assign(type="click")], ignore_index=True)
    return build_table(
        INTERACTIONS,
        {
            "user_id": "bb-" + events["sess_id"],
            "seq": [0] * len(events),
            "type": events["type"],
            "item_id": events["item_id"],
            "query": events["query"],
            "session_id": events["sess_id"],
            "position": (events["rank"] + 1).astype("int32"),
        },
    )
