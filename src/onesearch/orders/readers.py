"""Readers of the shared order sets into the generic lines (``orders.schema``), leaks dropped.

Contract: ``read_source(name_or_path, root)`` returns ``OrderSource``: generic lines plus
``dropped`` — each raw column or row group left out, with how many cells / rows and why. A
column recorded after the outcome never reaches the lines (``LEAKS`` lists them per set; the
leak test in ``tests/orders`` checks it). Names: ``amazon-india``, ``online-retail``, ``olist``;
anything else is a generic lines file, or a directory holding ``orders.csv`` (``.csv.gz``,
``.jsonl``, ``.parquet``). A raw Amazon India export given as a file is recognised by its header.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from onesearch.errors import DataError
from onesearch.orders.schema import KEY_FIELDS, check_lines, refuse_first
from onesearch.tables import TABLE_SUFFIXES, read_csv, read_records, require_columns, to_float

__all__ = ["DATASETS", "LEAKS", "OrderSource", "read_source"]

DATASETS = {"amazon-india": "orders/amazon_india", "online-retail": "orders/online_retail", "olist": "orders/olist_10k"}
LEAKS = {
    "amazon-india": ("Status", "Courier Status", "Qty", "Amount", "currency"),
    "online-retail": ("credit-note invoices",),
    "olist": ("order_status", "order_approved_at", "order_delivered_carrier_date", "order_delivered_customer_date", "order_estimated_delivery_date"),
}
AMAZON_HEADER = ("Order ID", "Date", "Status", "Courier Status")
AMAZON_PENDING = ("Pending", "Pending - Waiting for Pick Up", "Shipping")
CREDIT_WINDOW = pd.Timedelta(days=30)
OLIST_LABELS = {"canceled": 1.0, "unavailable": 1.0, "delivered": 0.0, "shipped": 0.0}


@dataclass
class OrderSource:
    """Generic lines of one source and what its reader left out (name -> note)."""

    name: str
    lines: pd.DataFrame
    dropped: dict[str, str] = field(default_factory=dict)


def read_source(source: str | Path, root: str | Path) -> OrderSource:
    """A shared set by name (under ``root``) or a generic / raw Amazon India file or folder."""
    if str(source) in DATASETS:
        folder = Path(root) / DATASETS[str(source)]
        if not folder.is_dir():
            raise DataError("missing data folder (is --data-root pointing at the shared data?)", path=folder)
        return READERS[str(source)](folder)
    path = _lines_file(Path(source))
    frame = read_records(path, required=())
    if set(AMAZON_HEADER) <= set(frame.columns):
        return _amazon_india(frame, path)
    require_columns(frame.columns, ("order_id", "ordered_at"), path)
    return OrderSource(str(source), check_lines(frame, path))


def read_amazon_india(folder: Path) -> OrderSource:
    """``orders.csv.gz`` of the Amazon.in apparel seller (see the data README)."""
    path = folder / "orders.csv.gz"
    return _amazon_india(read_csv(path), path)


def _amazon_india(raw: pd.DataFrame, path: Path) -> OrderSource:
    """One Amazon India export: label from ``Status``; the columns in ``LEAKS`` are dropped."""
    require_columns(raw.columns, AMAZON_HEADER + ("Category", "Size", "ship-postal-code"), path)
    duplicates = raw.drop(columns=[column for column in LEAKS["amazon-india"] if column in raw]).duplicated()  # never judged by a leak
    raw = raw[~duplicates].reset_index(drop=True)
    dates = _amazon_dates(raw["Date"], path)
    status = raw["Status"].fillna("")
    problem = np.where(status == "Cancelled", 1.0, np.where(status.isin(AMAZON_PENDING), np.nan, 0.0))
    lines = check_lines(pd.DataFrame({
        "order_id": raw["Order ID"], "ordered_at": dates, "problem": pd.Series(problem).map({1.0: "1", 0.0: "0"}),
        "channel": raw.get("Sales Channel"), "service_level": raw.get("ship-service-level"), "fulfilment": raw.get("Fulfilment"),
        "city": _upper(raw.get("ship-city")), "region": _upper(raw.get("ship-state")), "postal_code": raw["ship-postal-code"],
        "country": raw.get("ship-country"), "business": raw.get("B2B"), "category": raw["Category"], "variant": raw["Size"],
    }), path)
    dropped = {column: f"recorded after the outcome ({int(raw[column].notna().sum())} cells)" for column in LEAKS["amazon-india"] if column in raw}
    dropped["Status"] = "the label: became `problem` (Cancelled = 1; Pending, Shipping = no outcome yet)"
    dropped["exact duplicate lines"] = f"{int(duplicates.sum())} rows"
    return OrderSource("amazon-india", lines, dropped)


def read_online_retail(folder: Path) -> OrderSource:
    """UCI Online Retail: an invoice is an order; ``problem`` = the same customer got a credit
    note for one of its stock codes within 30 days (no outcome yet when the data ends sooner)."""
    path = folder / "lines.csv.gz"
    raw = read_csv(path, required=("invoice", "stock_code", "quantity", "invoice_date", "unit_price", "customer_id", "country"))
    when = pd.to_datetime(raw["invoice_date"], format="ISO8601", errors="coerce")
    refuse_first(when.isna(), raw["invoice_date"], path, "invoice_date", "is not an ISO 8601 date")
    quantity = to_float(raw["quantity"], path, "quantity")
    price = to_float(raw["unit_price"], path, "unit_price")
    invoice = raw["invoice"].fillna("")
    credit = invoice.str.startswith("C")
    sale = ~credit & ~invoice.str.startswith("A") & (quantity > 0) & raw["customer_id"].notna()
    credits = pd.DataFrame({"customer_id": raw["customer_id"], "item_id": raw["stock_code"], "credited_at": when})[credit]
    sales = pd.DataFrame({"order_id": invoice, "ordered_at": when, "customer_id": raw["customer_id"], "item_id": raw["stock_code"],
                          "country": raw["country"], "quantity": quantity, "unit_price": price})[sale]
    pairs = sales.reset_index().merge(credits, on=["customer_id", "item_id"])
    hit = (pairs["credited_at"] > pairs["ordered_at"]) & (pairs["credited_at"] <= pairs["ordered_at"] + CREDIT_WINDOW)
    credited = set(pairs.loc[hit, "order_id"])
    known = sales["ordered_at"] + CREDIT_WINDOW <= when.max()
    sales["problem"] = np.where(sales["order_id"].isin(credited), 1.0, np.where(known, 0.0, np.nan))
    lines = sales.reset_index(drop=True).reindex(columns=["order_id", "ordered_at", "problem", *KEY_FIELDS, "quantity", "unit_price"])
    dropped = {
        "credit-note invoices": f"the outcome: {int(credit.sum())} C lines became `problem`",
        "description": "free text, not used",
        "lines without a customer, adjustments, write-offs": f"{int((~credit & ~sale).sum())} rows (a credit note cannot be tied to them)",
    }
    return OrderSource("online-retail", lines, dropped)


def read_olist(folder: Path) -> OrderSource:
    """Olist 10k: ``problem`` = canceled or unavailable; orders without items are dropped
    (their missing items are recorded after the outcome)."""
    orders = read_csv(folder / "orders.csv.gz", required=("order_id", "customer_id", "order_status", "order_purchase_timestamp"))
    items = read_csv(folder / "order_items.csv.gz", required=("order_id", "product_id", "price"))
    customers = read_csv(folder / "customers.csv.gz", required=("customer_id", "customer_unique_id"))
    products = read_csv(folder / "products.csv.gz", required=("product_id", "product_category_name"))
    english = read_csv(folder / "product_category_name_translation.csv.gz", required=("product_category_name", "product_category_name_english"))
    when = pd.to_datetime(orders["order_purchase_timestamp"], errors="coerce")
    refuse_first(when.isna(), orders["order_purchase_timestamp"], folder / "orders.csv.gz", "order_purchase_timestamp", "is not a date-time")
    orders = orders.assign(ordered_at=when, problem=orders["order_status"].map(OLIST_LABELS))
    names = dict(zip(english["product_category_name"], english["product_category_name_english"]))
    products = products.assign(category=products["product_category_name"].map(lambda name: names.get(name, name)))
    merged = (orders.merge(customers, on="customer_id", how="left").merge(items, on="order_id")
              .merge(products[["product_id", "category"]], on="product_id", how="left"))
    lines = pd.DataFrame({
        "order_id": merged["order_id"], "ordered_at": merged["ordered_at"], "problem": merged["problem"].astype("float64"),
        "customer_id": merged["customer_unique_id"], "city": _upper(merged.get("customer_city")), "region": merged.get("customer_state"),
        "postal_code": merged.get("customer_zip_code_prefix"), "item_id": merged["product_id"], "category": merged["category"],
        "quantity": 1.0, "unit_price": to_float(merged["price"], folder / "order_items.csv.gz", "price"),
    }).reindex(columns=["order_id", "ordered_at", "problem", *KEY_FIELDS, "quantity", "unit_price"])
    dropped = {column: "recorded after the outcome" for column in LEAKS["olist"][1:]}
    dropped["order_status"] = "the label: became `problem` (canceled, unavailable = 1; delivered, shipped = 0; others no outcome yet)"
    dropped["orders without items"] = f"{int((~orders['order_id'].isin(items['order_id'])).sum())} orders (their missing items leak the label)"
    return OrderSource("olist", lines, dropped)


READERS = {"amazon-india": read_amazon_india, "online-retail": read_online_retail, "olist": read_olist}


def _lines_file(path: Path) -> Path:
    if path.is_dir():
        for suffix in TABLE_SUFFIXES:
            if (path / f"orders{suffix}").is_file():
                return path / f"orders{suffix}"
        raise DataError(f"no orders file in the folder (expected orders{{{','.join(TABLE_SUFFIXES)}}})", path=path)
    if not path.is_file():
        raise DataError("no such order file or folder, and not a data set name (one of " + ", ".join(DATASETS) + ")", path=path)
    return path


def _amazon_dates(values: pd.Series, path: Path) -> pd.Series:
    """Month-first dates in two spellings (``04-30-22``, ``05-03-2022``) -> ISO strings."""
    text = values.fillna("")
    short = pd.to_datetime(text, format="%m-%d-%y", errors="coerce")
    long = pd.to_datetime(text, format="%m-%d-%Y", errors="coerce")
    dates = short.where(text.str.len() == 8, long)
    refuse_first(dates.isna(), values, path, "Date", "is not a month-first date (MM-DD-YY or MM-DD-YYYY)")
    return dates.dt.strftime("%Y-%m-%d")


def _upper(values: pd.Series | None) -> pd.Series | None:
    return None if values is None else values.map(lambda value: value.strip().upper() if isinstance(value, str) else value)
