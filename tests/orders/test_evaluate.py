"""Splits never overlap, test labels reach nothing but the metrics, and metrics mean what they say."""

from __future__ import annotations

import numpy as np
import pytest

from onesearch.errors import DataError
from onesearch.orders.evaluate import evaluate, metrics, paired_ci, split_orders
from onesearch.orders.model import DiagnosisConfig


@pytest.mark.parametrize("split", ["time", "random"])
def test_splits_partition_the_orders(orders, split):
    train, test = split_orders(orders, split)
    assert not set(train["order_id"]) & set(test["order_id"]) and len(train) + len(test) == len(orders)
    if split == "time":
        assert train["ordered_at"].max() < test["ordered_at"].min()


def test_customer_split_needs_customers(orders):
    with pytest.raises(DataError, match="customer_id"):
        split_orders(orders, "customers")
    with_customers = orders.assign(customer_id=orders["postal_code"])
    train, test = split_orders(with_customers, "customers")
    assert not set(train["customer_id"]) & set(test["customer_id"])


def test_constant_scores_get_the_base_rate():
    truth = np.array([1, 0, 0, 0] * 250)
    found = metrics(truth, np.zeros(len(truth)))
    assert found["roc_auc"] == 0.5 and abs(found["precision@10%"] - 0.25) < 0.1


def test_paired_ci_sees_a_better_scorer(orders):
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, 500)
    good, noise = truth + rng.normal(0, 0.8, 500), rng.normal(0, 1, 500)
    delta = paired_ci(truth, good, noise, resamples=200)
    assert delta["pr_auc"][1] > 0 and delta["roc_auc"][1] > 0


def test_test_labels_do_not_reach_the_scores(orders):
    train, test = split_orders(orders, "time")
    config = DiagnosisConfig(trees=60)
    first = evaluate(train, test, config=config, resamples=50)
    flipped = test.assign(problem=1.0 - test["problem"])
    second = evaluate(train, flipped, config=config, resamples=50)
    assert np.allclose(first.scores["diagnosis"], second.scores["diagnosis"])
    assert np.allclose(first.scores["logistic"], second.scores["logistic"])
    assert first.metrics["diagnosis"]["pr_auc"] > first.metrics["base_rate"]["pr_auc"]
