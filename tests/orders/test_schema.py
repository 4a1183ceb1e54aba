"""The generic order format: typed lines, one-line errors for bad files, lines folded into orders."""

from __future__ import annotations

import pandas as pd
import pytest

from onesearch.errors import DataError
from onesearch.orders.schema import ORDER_COLUMNS, lines_to_orders, read_lines, write_lines

HEADER = "order_id,ordered_at,problem,postal_code,category,quantity,unit_price\n"


def _file(tmp_path, body: str, name: str = "orders.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body)
    return path


def test_lines_fold_into_orders_with_sums_and_first_line_fields(tmp_path):
    path = _file(tmp_path, "a,2024-01-02,1,100,shirt,2,5.5\na,2024-01-02,1,100,shoe,1,10\nb,2024-01-01T10:00:00,,200,hat,,3\n")
    orders = lines_to_orders(read_lines(path))
    assert list(orders.columns) == list(ORDER_COLUMNS)
    assert list(orders["order_id"]) == ["b", "a"]  # sorted by time
    a = orders.set_index("order_id").loc["a"]
    assert a["lines"] == 2 and a["quantity"] == 3 and a["amount"] == 21.0 and a["category"] == "shirt" and a["problem"] == 1.0
    b = orders.set_index("order_id").loc["b"]
    assert pd.isna(b["problem"]) and pd.isna(b["amount"])  # no outcome yet; quantity unknown


@pytest.mark.parametrize("body, message", [
    ("a,02/01/2024,0,100,shirt,1,1\n", "row 1: column 'ordered_at': '02/01/2024' is not an ISO 8601 date"),
    ("a,2024-01-01,maybe,100,shirt,1,1\n", "row 1: column 'problem': 'maybe' is not one of"),
    ("a,2024-01-01,0,100,shirt,-1,1\n", "row 1: column 'quantity': '-1' is negative"),
    ("a,2024-01-01,0,100,shirt,x,1\n", "row 1: column 'quantity': 'x' is not a number"),
    ("a,2024-01-01,0,100,shirt,1,1\na,2024-01-01,1,100,shirt,1,1\n", "row 2: order 'a': 'problem' differs between its lines"),
    (",2024-01-01,0,100,shirt,1,1\n", "row 1: column 'order_id' is empty"),
])
def test_a_bad_cell_is_one_error_naming_file_row_and_problem(tmp_path, body, message):
    path = _file(tmp_path, body)
    with pytest.raises(DataError) as caught:
        read_lines(path)
    assert str(caught.value).startswith(f"{path}: ") and message in str(caught.value)


def test_missing_required_column_is_named(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("order_id,category\na,shirt\n")
    with pytest.raises(DataError, match="missing column.*'ordered_at'"):
        read_lines(path)


def test_written_lines_read_back_the_same(tmp_path, lines):
    path = tmp_path / "out" / "orders.csv.gz"
    write_lines(lines.head(200), path)
    again = read_lines(path)
    pd.testing.assert_frame_equal(lines_to_orders(again), lines_to_orders(lines.head(200)), check_dtype=False)
    assert [p.name for p in path.parent.iterdir()] == ["orders.csv.gz"]  # no temp file left
