"""The diagnosis model on a synthetic shop with a planted signal: it finds it, explains it, keeps it on disk."""

from __future__ import annotations

import numpy as np
import pytest

from onesearch.errors import DataError
from onesearch.orders.evaluate import metrics
from onesearch.orders.model import DiagnosisConfig, Diagnoser, load_diagnoser


@pytest.fixture(scope="module")
def split(orders):
    cut = orders["ordered_at"] < orders["ordered_at"].min() + np.timedelta64(45, "D")
    return orders[cut].reset_index(drop=True), orders[~cut].reset_index(drop=True)


@pytest.fixture(scope="module")
def model(split):
    return Diagnoser.fit(split[0], DiagnosisConfig(trees=100, check_share=0.3), context=split[0])  # a fifth of the orders are in repeat pairs


def test_it_finds_the_planted_repeats(model, split, orders):
    test = split[1]
    scores = model.score(test, orders)
    found = metrics(test["problem"].to_numpy().astype(int), scores)
    assert found["pr_auc"] > 2 * test["problem"].mean() and found["roc_auc"] > 0.7
    assert 0.0 < scores.min() and scores.max() < 1.0


def test_diagnosis_flags_ranks_and_explains(model, split, orders):
    out = model.diagnose(split[1], orders)
    assert list(out["order_id"]) == list(split[1]["order_id"])
    assert set(out["flag"]) <= {"check", "ship first", ""} and (out["flag"] == "check").any()
    ship = out[out["flag"] == "ship first"]
    assert len(ship) == model.config.ship_first and sorted(ship["ship_rank"]) == list(range(1, len(ship) + 1))
    assert out.loc[out["flag"] == "check", "ship_rank"].isna().all()
    assert np.allclose(out["saved_value"], out["risk"] * out["value"], atol=0.01)
    repeats = out[out["order_id"].str.endswith("r")]
    assert repeats["reasons"].str.contains("the same order placed|same postal code").mean() > 0.5


def test_saved_and_loaded_model_scores_the_same(model, split, orders, tmp_path):
    model.save(tmp_path / "model")
    again = load_diagnoser(tmp_path / "model")
    assert np.allclose(again.score(split[1], orders), model.score(split[1], orders))


def test_too_few_labels_is_one_clear_error(orders):
    with pytest.raises(DataError, match="too few labelled orders"):
        Diagnoser.fit(orders.head(20))


def test_a_broken_model_folder_is_refused(model, tmp_path):
    model.save(tmp_path / "model")
    (tmp_path / "model" / "booster.txt").write_text("garbage")
    with pytest.raises(DataError, match="broken order-diagnosis model"):
        load_diagnoser(tmp_path / "model")
