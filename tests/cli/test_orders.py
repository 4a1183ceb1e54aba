"""``onesearch orders fit | export | diagnose | eval`` through the real entry point."""

from __future__ import annotations

import json

import pandas as pd

from onesearch.orders.schema import write_lines
from tests.orders.synthetic import synthetic_lines


def _source(tmp_path):
    path = tmp_path / "shop" / "orders.csv"
    write_lines(synthetic_lines(1500), path)
    return path


def test_fit_then_diagnose_writes_flags_and_reasons(tmp_path, cli):
    source = _source(tmp_path)
    code, _, err = cli(["orders", "fit", "--source", str(source.parent), "--out", str(tmp_path / "model")])
    assert code == 0 and "fitted on" in err
    code, _, err = cli(["orders", "diagnose", str(source), "--model", str(tmp_path / "model"), "--out", str(tmp_path / "flags.csv")])
    assert code == 0 and "to check" in err
    flags = pd.read_csv(tmp_path / "flags.csv", keep_default_na=False)
    assert list(flags.columns) == ["order_id", "risk", "anomaly", "value", "saved_value", "flag", "ship_rank", "reasons"]
    assert (flags["flag"] == "ship first").sum() == 20 and flags["reasons"].str.len().gt(0).all()


def test_eval_writes_the_metrics_of_every_model(tmp_path, cli):
    source = _source(tmp_path)
    code, _, err = cli(["orders", "eval", "--source", str(source), "--resamples", "50", "--out", str(tmp_path / "report")])
    assert code == 0 and "diagnosis − logistic" in err
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert set(metrics["models"]) == {"diagnosis", "logistic", "base_rate"} and metrics["split"] == "time"
    for values in metrics["models"].values():
        assert {"pr_auc", "roc_auc", "precision@10%", "recall@10%"} <= set(values)
    assert (tmp_path / "report" / "reliability.png").stat().st_size > 1000


def test_test_file_trains_only_on_earlier_orders(tmp_path, cli):
    lines = synthetic_lines(1500)
    last = lines["ordered_at"] >= lines["ordered_at"].max() - pd.Timedelta(days=10)
    write_lines(lines, tmp_path / "all.csv")
    write_lines(lines[last], tmp_path / "test.csv")
    code, _, _ = cli(["orders", "eval", "--source", str(tmp_path / "all.csv"), "--test-file", str(tmp_path / "test.csv"), "--resamples", "50", "--out", str(tmp_path / "r")])
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert code == 0 and metrics["split"] == "test-file"
    assert metrics["sizes"]["train_span"][1] < metrics["sizes"]["test_span"][0]


def test_bad_order_file_is_one_line_and_writes_nothing(tmp_path, cli):
    bad = tmp_path / "orders.csv"
    bad.write_text("order_id,ordered_at\na,2024-01-01\nb,yesterday\n")
    code, out, err = cli(["orders", "fit", "--source", str(bad), "--out", str(tmp_path / "model")])
    assert code == 2 and err.strip() == f"error: {bad}: row 2: column 'ordered_at': 'yesterday' is not an ISO 8601 date"
    assert not (tmp_path / "model").exists()


def test_export_writes_the_generic_format(tmp_path, cli, shared_data):
    code, _, _ = cli(["orders", "export", "--data", "olist", "--data-root", str(shared_data), "--out", str(tmp_path / "olist.csv.gz")])
    assert code == 0
    exported = pd.read_csv(tmp_path / "olist.csv.gz")
    assert {"order_id", "ordered_at", "problem", "category", "unit_price"} <= set(exported.columns) and exported["order_id"].nunique() == 9_889


def test_a_test_file_spanning_the_whole_period_is_time_split_itself(tmp_path, cli):
    lines = synthetic_lines(1500)
    held_out = lines["order_id"].str[-1].isin(["3", "7"])
    write_lines(lines[~held_out], tmp_path / "ours.csv")
    write_lines(lines[held_out], tmp_path / "held_out.csv")
    code, _, err = cli(["orders", "eval", "--source", str(tmp_path / "ours.csv"), "--test-file", str(tmp_path / "held_out.csv"),
                        "--resamples", "50", "--out", str(tmp_path / "r")])
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert code == 0 and "nothing of the source is dated before" in err and "scoring its orders from" in metrics["note"]
    assert metrics["sizes"]["train_span"][1] < metrics["sizes"]["test_span"][0]
