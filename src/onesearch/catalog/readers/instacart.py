"""Instacart 2017 orders: personalised product search, the protocol of personalised search papers.

Task ``instacart``: one example per (user, order, aisle): the query is the aisle name, the
targets are the products of that aisle in that order (gain 1, relevant), and the history is
every line of the user's strictly earlier orders (interactions with ``seq`` = order number <
``history_end``). Aisle "missing" is dropped. A user's last order is test, the one before valid,
earlier ones train. ``time`` = days since the user's first order (cumulative
``days_since_prior_order``); ``position`` = add-to-cart order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from onesearch.tables import read_csv, require_known, to_int
from onesearch.catalog.schema import EXAMPLES, INTERACTIONS, ITEMS, Dataset, build_table
from onesearch.catalog.splits import recency_split, use_test_file
from onesearch.catalog.text import clean_text

__all__ = ["FILES", "read", "read_test_file"]

FILES = ("instacart/products.csv", "instacart/aisles.csv", "instacart/departments.csv", "instacart/orders.csv.gz")
_LINE_COLUMNS = ("order_id", "user_id", "order_number", "product_id")
_MISSING_AISLE = "missing"
META = {
    "task": "aisle-name query + user history -> products bought in that aisle in that order",
    "labels": "gain 1, relevant: every product of the aisle in the order",
    "split": "per user: last order test, previous valid, earlier train",
    "history": "interactions of the user with seq (order_number) < history_end",
    "time_unit": "days since the user's first order",
}


def read(root: Path) -> Dataset:
    """Catalog with department > aisle paths, order-line interactions and the task examples."""
    products, aisle_names = _read_products(root)
    items = build_table(
        ITEMS,
        {
            "item_id": products["product_id"],
            "title": products["product_name"].map(clean_text),
            "category": [[d, a] for d, a in zip(products["department"], products["aisle"])],
            "attributes": [{"aisle_id": a, "department_id": d} for a, d in zip(products["aisle_id"], products["department_id"])],
        },
    )
    dataset = Dataset("instacart", items, meta=dict(META, aisles=len(aisle_names)))
    lines = _read_lines(root / FILES[3])
    aisle_of = products.set_index("product_id")["aisle"]
    dataset.interactions = _interactions(lines)
    dataset.examples = _examples(lines, aisle_of, split=None)
    dataset.note("order lines in aisle 'missing' (no example)", int((lines["product_id"].map(aisle_of) == _MISSING_AISLE).sum()))
    return dataset


def _read_products(root: Path) -> tuple[pd.DataFrame, pd.Series]:
    products = read_csv(root / FILES[0], ["product_id", "product_name", "aisle_id", "department_id"])
    aisles = read_csv(root / FILES[1], ["aisle_id", "aisle"]).set_index("aisle_id")["aisle"]
    departments = read_csv(root / FILES[2], ["department_id", "department"]).set_index("department_id")["department"]
    require_known(products["aisle_id"], aisles.index, root / FILES[0], "aisle_id", what="aisles file")
    require_known(products["department_id"], departments.index, root / FILES[0], "department_id", what="departments file")
    products["aisle"] = products["aisle_id"].map(aisles)
    products["department"] = products["department_id"].map(departments)
    return products, aisles


def _read_lines(path: Path) -> pd.DataFrame:
    """Order lines, typed and sorted by user, order number, cart position."""
    lines = read_csv(path, _LINE_COLUMNS)
    for column in ("order_number", "add_to_cart_order"):
        if column in lines:
            lines[column] = to_int(lines[column], path, column)
    days = lines.get("days_since_prior_order")
    lines["days"] = pd.to_numeric(days, errors="coerce").fillna(0.0) if days is not None else 0.0
    if "add_to_cart_order" not in lines:
        lines["add_to_cart_order"] = lines.groupby("order_id").cumcount() + 1
    return lines.sort_values(["user_id", "order_number", "add_to_cart_order"], kind="stable").reset_index(drop=True)


def _order_times(lines: pd.DataFrame) -> pd.Series:
    """Days since each user's first order, per order_id."""
    orders = lines.drop_duplicates("order_id")[["order_id", "user_id", "order_number", "days"]]
    orders = orders.sort_values(["user_id", "order_number"])
    orders["time"] = orders.groupby("user_id")["days"].cumsum() - orders.groupby("user_id")["days"].transform("first")
    return orders.set_index("order_id")["time"]


def _interactions(lines: pd.DataFrame):
    return build_table(
        INTERACTIONS,
        {
            "user_id": lines["user_id"],
            "seq": lines["order_number"].astype("int64"),
            "type": ["order"] * len(lines),
            "item_id": lines["product_id"],
            "session_id": lines["order_id"],
            "time": lines["order_id"].map(_order_times(lines)).astype("float64"),
            "position": lines["add_to_cart_order"].astype("int32"),
        },
    )


def _examples(lines: pd.DataFrame, aisle_of: pd.Series, split: str | None):
    """One example per (user, order, aisle). ``split=None``: recency split; else that split for last orders only."""
    frame = lines.assign(aisle=lines["product_id"].map(aisle_of))
    frame = frame[frame["aisle"] != _MISSING_AISLE]
    orders = frame.drop_duplicates(["user_id", "order_number"])[["user_id", "order_number"]].copy()
    orders["rank"] = orders.groupby("user_id")["order_number"].rank(ascending=False, method="first").astype(int) - 1
    frame = frame.merge(orders, on=["user_id", "order_number"])
    if split is not None:
        frame = frame[frame["rank"] == 0]
    grouped = frame.groupby(["user_id", "order_id", "aisle"], sort=True)
    keys = grouped.size().index
    first = grouped.first()
    products = grouped["product_id"].agg(list)
    return build_table(
        EXAMPLES,
        {
            "example_id": [f"ic-{o}-{a}" for _, o, a in keys],
            "split": np.full(len(keys), split) if split else recency_split(first["rank"].to_numpy()),
            "query": [a for _, _, a in keys],
            "user_id": [u for u, _, _ in keys],
            "history_end": first["order_number"].astype("int64").to_numpy(),
            "targets": [[{"item_id": p, "gain": 1.0, "relevant": True} for p in ps] for ps in products],
        },
    )


def read_test_file(dataset: Dataset, path: Path) -> Dataset:
    """An Instacart order-lines CSV: each user's last order there is a test case; earlier orders are its history.

    The file's users replace any same-id users of the shared data (their lines and examples).
    """
    path = Path(path)
    lines = _read_lines(path)
    require_known(lines["product_id"], dataset.items["item_id"].to_pylist(), path, "product_id")
    aisle_of = pd.Series({row["item_id"]: row["category"][-1] for row in dataset.items.select(["item_id", "category"]).to_pylist()})
    test = _examples(lines, aisle_of, split="test")
    dataset = use_test_file(dataset, test, key="user_id")
    users = pa.array(lines["user_id"].unique())
    kept = dataset.interactions.filter(pc.invert(pc.is_in(dataset.interactions["user_id"], value_set=users)))
    dataset.note("interactions replaced by --test-file users", dataset.interactions.num_rows - kept.num_rows)
    dataset.interactions = pa.concat_tables([kept, _interactions(lines)])
    return dataset
