"""As-of features: outcomes only from earlier labelled orders, counts only up to the order's time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from onesearch.orders.features import describe, fit_spec, order_features
from onesearch.orders.schema import lines_to_orders


def _orders(rows):
    lines = pd.DataFrame(rows)
    for column in ("customer_id", "channel", "service_level", "fulfilment", "city", "region", "country", "business", "item_id", "variant", "quantity", "unit_price"):
        if column not in lines:
            lines[column] = None if column not in ("quantity", "unit_price") else np.nan
    return lines_to_orders(lines)


ROWS = [
    {"order_id": "a", "ordered_at": pd.Timestamp("2024-01-01"), "problem": 1.0, "postal_code": "1", "category": "x"},
    {"order_id": "b", "ordered_at": pd.Timestamp("2024-01-03"), "problem": 1.0, "postal_code": "1", "category": "x"},
    {"order_id": "c", "ordered_at": pd.Timestamp("2024-01-03"), "problem": 0.0, "postal_code": "1", "category": "x"},
    {"order_id": "d", "ordered_at": pd.Timestamp("2024-01-09"), "problem": 0.0, "postal_code": "1", "category": "y"},
]


def test_outcomes_come_from_orders_at_least_a_day_older_and_never_the_order_itself():
    orders = _orders(ROWS)
    spec = fit_spec(orders)
    features = order_features(orders, orders, orders, spec).set_index(orders["order_id"])
    assert features.loc["a", "seen.postal_code"] == 0  # nothing before it
    assert features.loc["b", "seen.postal_code"] == 1 and features.loc["c", "seen.postal_code"] == 1  # a only, not each other
    assert features.loc["d", "seen.postal_code"] == 3
    prior, base = spec.prior, 2 / 3  # the as-of rate of every order: a, b, c
    assert np.isclose(features.loc["d", "rate.postal_code"], (2 + prior * base) / (3 + prior))


def test_changing_an_outcome_moves_only_later_orders():
    orders = _orders(ROWS)
    flipped = orders.copy()
    flipped.loc[flipped["order_id"] == "c", "problem"] = 1.0
    spec = fit_spec(orders)
    before, after = order_features(orders, orders, orders, spec), order_features(flipped, flipped, flipped, spec)
    differs = before.select_dtypes("number").fillna(-1) != after.select_dtypes("number").fillna(-1)
    changed = orders["order_id"][differs.any(axis=1).to_numpy()]
    assert list(changed) == ["d"]


def test_counts_see_the_day_batch_and_the_window_but_not_the_future():
    orders = _orders(ROWS)
    features = order_features(orders, orders, orders, fit_spec(orders)).set_index(orders["order_id"])
    assert features.loc["b", "count.postal_code.1d"] == 2  # b and c: the same day's batch
    assert features.loc["a", "count.postal_code.7d"] == 1  # b, c, d come later
    assert features.loc["b", "count.postal_code.7d"] == 3 and features.loc["d", "count.postal_code.7d"] == 3  # b, c (6 days before), d
    assert features.loc["d", "count.postal_code.1d"] == 1


def test_a_field_nobody_fills_makes_no_feature_and_phrases_read_well():
    orders = _orders(ROWS)
    spec = fit_spec(orders)
    assert all("customer_id" not in key for key in spec.count_keys)
    assert describe("count.postal_code+category.1d", 3.0) == "3 orders with the same postal code, category within the same day"
    assert describe("count.a+b+c+d+e.7d", 2.0) == "the same order placed 2 times within 7 days"
    assert "went wrong 25%" in describe("rate.region", 0.25)


def test_without_the_batch_only_earlier_days_count():
    orders = _orders(ROWS)
    features = order_features(orders, orders, orders, fit_spec(orders, batch=False)).set_index(orders["order_id"])
    assert features.loc["b", "count.postal_code.1d"] == 0 and features.loc["b", "count.postal_code.7d"] == 1  # a only
