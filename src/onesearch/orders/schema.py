"""The generic order format: one row per order line, checked and folded into one row per order.

Contract: ``read_lines(path)`` reads a CSV / JSONL / Parquet lines file and ``lines_to_orders``
turns checked lines into the order table every other module takes. A bad cell raises one
``DataError`` naming the file, the data row and the problem. Columns (only the first two are
required; unknown columns are ignored and never become features):

- ``order_id``, ``ordered_at`` (ISO 8601 date or date-time; a date alone is the day's batch);
- order fields, equal on every line of an order: ``customer_id``, ``channel``,
  ``service_level``, ``fulfilment``, ``city``, ``region``, ``postal_code``, ``country``,
  ``business`` (true / false) and ``problem`` (the label: 1 the order went wrong — cancelled
  before shipment, credited —, 0 it did not, empty: no outcome yet);
- line fields: ``item_id``, ``category``, ``variant``, ``quantity``, ``unit_price`` (known when
  the order is placed; a value recorded after the outcome must not be given here).

The order table (``ORDER_COLUMNS``): the order fields, the first line's ``item_id`` /
``category`` / ``variant``, ``lines``, ``quantity`` (sum, NaN when unknown) and ``amount``
(sum of quantity × unit price, NaN when unknown), sorted by ``ordered_at`` then ``order_id``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from onesearch.errors import DataError
from onesearch.tables import read_records, to_float

__all__ = ["KEY_FIELDS", "LINE_FIELDS", "ORDER_COLUMNS", "ORDER_FIELDS", "check_lines", "lines_to_orders", "read_lines", "refuse_first", "write_lines"]

ORDER_FIELDS = ("customer_id", "channel", "service_level", "fulfilment", "city", "region", "postal_code", "country", "business")
LINE_FIELDS = ("item_id", "category", "variant")
KEY_FIELDS = ORDER_FIELDS + LINE_FIELDS
ORDER_COLUMNS = ("order_id", "ordered_at", "problem", *KEY_FIELDS, "lines", "quantity", "amount")
PROBLEM = {"1": 1.0, "0": 0.0, "true": 1.0, "false": 0.0, "yes": 1.0, "no": 0.0}
_unknown = object()
BUSINESS = {"1": "true", "0": "false", "true": "true", "false": "false", "yes": "true", "no": "false"}


def read_lines(path: str | Path) -> pd.DataFrame:
    """A generic lines file, checked (see module docstring) and typed."""
    frame = read_records(path, required=("order_id", "ordered_at"))
    return check_lines(frame, path)


def check_lines(frame: pd.DataFrame, path: str | Path) -> pd.DataFrame:
    """Type and check generic lines (strings in, one ``DataError`` for the first bad cell)."""
    lines = pd.DataFrame({"order_id": _text(frame["order_id"])})
    _require_present(lines["order_id"], path, "order_id")
    lines["ordered_at"] = _timestamps(frame["ordered_at"], path)
    lines["problem"] = _coded(frame.get("problem"), PROBLEM, path, "problem", len(frame)).astype("float64")
    for field in KEY_FIELDS:
        column = frame.get(field)
        if field == "business":
            lines[field] = _coded(column, BUSINESS, path, field, len(frame))
        else:
            lines[field] = _text(column) if column is not None else pd.Series(None, index=frame.index, dtype=object)
    for field in ("quantity", "unit_price"):
        values = to_float(frame[field], path, field) if field in frame else pd.Series(np.nan, index=frame.index)
        if field in frame:
            refuse_first(values < 0, frame[field], path, field, "is negative")
        lines[field] = values
    _require_consistent(lines, path)
    return lines


def lines_to_orders(lines: pd.DataFrame) -> pd.DataFrame:
    """Checked lines -> the order table (module docstring)."""
    grouped = lines.groupby("order_id", sort=False)
    orders = grouped[["ordered_at", "problem", *KEY_FIELDS]].first()
    orders["problem"] = grouped["problem"].max()
    orders["lines"] = grouped.size()
    orders["quantity"] = grouped["quantity"].sum(min_count=1).where(grouped["quantity"].count() == orders["lines"])
    value = lines["quantity"] * lines["unit_price"]
    orders["amount"] = value.groupby(lines["order_id"], sort=False).sum(min_count=1).where(value.notna().groupby(lines["order_id"], sort=False).all())
    orders = orders.reset_index().sort_values(["ordered_at", "order_id"], kind="stable").reset_index(drop=True)
    return orders[list(ORDER_COLUMNS)]


def write_lines(lines: pd.DataFrame, path: str | Path) -> None:
    """Write generic lines as CSV (through a temp file renamed into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = lines.copy()
    out["ordered_at"] = out["ordered_at"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    out["problem"] = out["problem"].map({1.0: "1", 0.0: "0"})
    tmp = path.with_name(f".{path.name}.tmp")
    out.to_csv(tmp, index=False, compression="gzip" if path.suffix == ".gz" else None)
    tmp.replace(path)


def refuse_first(bad: pd.Series, values: pd.Series, path: str | Path, column: str, problem: str) -> None:
    """``DataError`` at the first row where ``bad`` holds: ``column 'c': 'value' <problem>``."""
    rows = bad.to_numpy().nonzero()[0]
    if len(rows):
        raise DataError(f"column {column!r}: {values.iloc[rows[0]]!r} {problem}", path=path, row=int(rows[0]) + 1)


def _text(values: pd.Series) -> pd.Series:
    """Cells as stripped strings (object dtype); empty and missing cells -> None."""
    stripped = [None if _missing(value) or str(value).strip() == "" else str(value).strip() for value in values]
    return pd.Series(stripped, index=values.index, dtype=object)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA


def _require_present(values: pd.Series, path: str | Path, column: str) -> None:
    missing = values.isna().to_numpy().nonzero()[0]
    if len(missing):
        raise DataError(f"column {column!r} is empty", path=path, row=int(missing[0]) + 1)


def _timestamps(values: pd.Series, path: str | Path) -> pd.Series:
    text = _text(values)
    _require_present(text, path, "ordered_at")
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    refuse_first(parsed.isna(), text, path, "ordered_at", "is not an ISO 8601 date")
    return parsed.dt.tz_localize(None)


def _coded(values: pd.Series | None, codes: dict[str, object], path: str | Path, column: str, size: int) -> pd.Series:
    if values is None:
        return pd.Series(None, index=range(size), dtype=object)
    text = _text(values)
    coded = [None if value is None else codes.get(value.lower(), _unknown) for value in text]
    bad = [row for row, value in enumerate(coded) if value is _unknown]
    if bad:
        raise DataError(f"column {column!r}: {values.iloc[bad[0]]!r} is not one of {', '.join(sorted(codes))} (or empty)", path=path, row=bad[0] + 1)
    return pd.Series(coded, index=values.index, dtype=object)


def _require_consistent(lines: pd.DataFrame, path: str | Path) -> None:
    """Order fields (and the date) must not differ between lines of one order."""
    for field in ("ordered_at", "problem", *ORDER_FIELDS):
        counts = lines.groupby("order_id", sort=False)[field].nunique()
        if (counts > 1).any():
            order = counts.index[(counts > 1).to_numpy()][0]
            row = int((lines["order_id"] == order).to_numpy().nonzero()[0][1])
            raise DataError(f"order {order!r}: {field!r} differs between its lines", path=path, row=row + 1)
