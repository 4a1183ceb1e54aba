"""The shared order sets: counts as documented, and the leak guard — a column recorded after the
outcome never reaches the features (scrambling it changes nothing)."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pandas as pd
import pytest

from onesearch.errors import DataError
from onesearch.orders.features import fit_spec, order_features
from onesearch.orders.readers import LEAKS, read_source
from onesearch.orders.schema import LINE_FIELDS, ORDER_FIELDS, lines_to_orders

GENERIC = {"order_id", "ordered_at", "problem", *ORDER_FIELDS, *LINE_FIELDS, "quantity", "unit_price"}


def _features(source, root):
    orders = lines_to_orders(read_source(source, root).lines)
    return order_features(orders, orders, orders, fit_spec(orders))


def test_amazon_india_counts_and_dropped_columns(shared_data):
    found = read_source("amazon-india", shared_data)
    orders = lines_to_orders(found.lines)
    assert len(orders) == 96_140 and int(orders["problem"].sum()) == 13_715
    assert set(found.lines.columns) <= GENERIC and found.lines["quantity"].isna().all() and found.lines["unit_price"].isna().all()
    assert set(LEAKS["amazon-india"]) <= set(found.dropped) and found.dropped["exact duplicate lines"] == "140 rows"


def test_scrambling_amazon_india_leaks_changes_no_feature(shared_data, tmp_path):
    raw = pd.read_csv(shared_data / "orders/amazon_india/orders.csv.gz", dtype=str, keep_default_na=False, nrows=4000)
    raw.to_csv(tmp_path / "original.csv", index=False)
    rng = np.random.default_rng(0)
    for column in ("Courier Status", "Qty", "Amount", "currency"):
        raw[column] = rng.permutation(raw[column].to_numpy())
    raw.to_csv(tmp_path / "scrambled.csv", index=False)
    pd.testing.assert_frame_equal(_features(tmp_path / "original.csv", shared_data), _features(tmp_path / "scrambled.csv", shared_data))


def test_scrambling_olist_outcome_dates_changes_no_feature(shared_data, tmp_path):
    folder = tmp_path / "olist"
    shutil.copytree(shared_data / "orders/olist_10k", folder)
    orders = pd.read_csv(folder / "orders.csv.gz", dtype=str, keep_default_na=False)
    before = _olist_features(folder)
    rng = np.random.default_rng(0)
    for column in LEAKS["olist"][1:]:
        orders[column] = rng.permutation(orders[column].to_numpy())
    with gzip.open(folder / "orders.csv.gz", "wt", newline="") as handle:
        orders.to_csv(handle, index=False)
    pd.testing.assert_frame_equal(before, _olist_features(folder))


def _olist_features(folder):
    from onesearch.orders.readers import read_olist

    orders = lines_to_orders(read_olist(folder).lines)
    return order_features(orders, orders, orders, fit_spec(orders))


def test_online_retail_labels_only_known_outcomes(shared_data):
    found = read_source("online-retail", shared_data)
    orders = lines_to_orders(found.lines)
    assert len(orders) == 30_068 and orders["customer_id"].notna().all()
    assert not found.lines["order_id"].str.startswith(("C", "A")).any()
    last = orders["ordered_at"].max()
    recent = orders.loc[orders["ordered_at"] > last - pd.Timedelta(days=29), "problem"]
    assert not (recent == 0).any() and recent.isna().any()  # a credit seen is known; "no credit" is not until the window closes
    assert 0.1 < orders["problem"].mean() < 0.3


def test_unknown_name_and_missing_folder_are_one_line(tmp_path):
    with pytest.raises(DataError, match="not a data set name"):
        read_source(tmp_path / "missing.csv", tmp_path)
    with pytest.raises(DataError, match="missing data folder"):
        read_source("olist", tmp_path)
