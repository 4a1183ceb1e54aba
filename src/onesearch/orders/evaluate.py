"""Evaluating order diagnosis: splits, the baselines, metrics and paired bootstrap CIs.

Contract: ``split_orders`` cuts an order table into (train, test) without overlap — ``time``
(test: orders from ``test_from``, default ``default_test_start``; train: every earlier order), ``random`` (a fixed 20% of orders) or ``customers`` (a fixed 20% of
customers; their orders are the test set, the other customers' orders are train).
``evaluate(train, test, context)`` fits the diagnosis model and logistic regression on the
train orders' labels only and scores the labelled test orders. Test labels reach nothing but
the metrics: features read outcomes from ``train`` alone (``orders.features``); ``context``
(orders whose existence is known, labels unused) defaults to train plus test.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from onesearch.errors import DataError
from onesearch.orders.model import DiagnosisConfig, Diagnoser, linear_model

__all__ = ["SPLITS", "Report", "default_test_start", "evaluate", "metrics", "paired_ci", "reliability", "split_orders"]

SPLITS = ("time", "random", "customers")
SHARES = (0.05, 0.10)
MODELS = ("diagnosis", "logistic", "base_rate")


@dataclass
class Report:
    """Per-model metrics, paired CIs of the diagnosis model against each other model, sizes."""

    metrics: dict[str, dict[str, float]]
    versus: dict[str, dict[str, list[float]]]
    sizes: dict[str, Any]
    scores: pd.DataFrame  # order_id, problem and each model's score, for plots


def split_orders(orders: pd.DataFrame, split: str, test_from: str | None = None, test_share: float = 0.2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) order tables (module docstring)."""
    if split == "time":
        start = pd.Timestamp(test_from) if test_from else default_test_start(orders)
        test = orders["ordered_at"] >= start
    elif split == "random":
        test = _hashed(orders["order_id"], test_share)
    elif split == "customers":
        if orders["customer_id"].isna().all():
            raise DataError("a customer split needs customer_id on the orders")
        test = _hashed(orders["customer_id"].fillna(""), test_share) & orders["customer_id"].notna()
    else:
        raise DataError(f"unknown split {split!r} (one of {', '.join(SPLITS)})")
    return _nonempty(orders[~test], "train"), _nonempty(orders[test], "test")


def default_test_start(orders: pd.DataFrame) -> pd.Timestamp:
    """The first day of the month that holds the 85th percentile of the labelled orders' dates
    (Amazon India: 2022-06-01, so train is April-May and test June)."""
    labelled = orders.loc[orders["problem"].notna(), "ordered_at"]
    return labelled.quantile(0.85).normalize().replace(day=1)


def evaluate(train: pd.DataFrame, test: pd.DataFrame, context: pd.DataFrame | None = None, config: DiagnosisConfig | None = None,
             resamples: int = 1000, seed: int = 0) -> Report:
    """Fit on ``train``, score the labelled ``test`` orders with every model, compare (module docstring)."""
    context = pd.concat([train, test], ignore_index=True) if context is None else context
    model = Diagnoser.fit(train, config, context=context)
    labelled = test[test["problem"].notna()].reset_index(drop=True)
    if labelled["problem"].nunique() < 2:
        raise DataError(f"the test orders need both outcomes to be scored ({len(labelled)} labelled)")
    truth = labelled["problem"].to_numpy().astype(int)
    rows = model.features(labelled, context)
    scores = {"diagnosis": model.score_rows(rows), "logistic": _logistic(model, train, rows, context),
              "base_rate": np.full(len(labelled), float(train["problem"].mean()))}
    table = pd.DataFrame({"order_id": labelled["order_id"], "problem": truth, **scores})
    sizes = {"train_orders": int(train["problem"].notna().sum()), "test_orders": len(labelled), "test_base_rate": float(truth.mean()),
             "train_span": _span(train), "test_span": _span(labelled)}
    versus = {name: paired_ci(truth, scores["diagnosis"], scores[name], resamples, seed) for name in MODELS[1:]}
    return Report({name: metrics(truth, score) for name, score in scores.items()}, versus, sizes, table)


def metrics(truth: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """PR-AUC, ROC-AUC, precision and recall in the top 5% / 10% flagged, Brier score.

    Ties are broken by a fixed random order, so a constant score gets the base rate's expected precision."""
    out = {"pr_auc": float(average_precision_score(truth, score)), "roc_auc": float(roc_auc_score(truth, score)),
           "brier": float(np.mean((score - truth) ** 2))}
    order = np.lexsort((np.random.default_rng(0).random(len(score)), -score))
    for share in SHARES:
        flagged = truth[order[: max(1, int(round(share * len(truth))))]]
        out[f"precision@{share:.0%}"] = float(flagged.mean())
        out[f"recall@{share:.0%}"] = float(flagged.sum() / max(truth.sum(), 1))
    return out


def paired_ci(truth: np.ndarray, ours: np.ndarray, other: np.ndarray, resamples: int = 1000, seed: int = 0) -> dict[str, list[float]]:
    """Mean and 95% CI of (ours - other) per metric over bootstrap resamples of the test orders."""
    rng = np.random.default_rng(seed)
    names = ("pr_auc", "roc_auc", "recall@10%")
    deltas: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(resamples):
        pick = rng.integers(0, len(truth), len(truth))
        if truth[pick].min() == truth[pick].max():
            continue
        a, b = metrics(truth[pick], ours[pick]), metrics(truth[pick], other[pick])
        for name in names:
            deltas[name].append(a[name] - b[name])
    return {name: [float(np.mean(values)), float(np.quantile(values, 0.025)), float(np.quantile(values, 0.975))] for name, values in deltas.items()}


def reliability(table: pd.DataFrame, out: Path, bins: int = 10) -> None:
    """A reliability plot (predicted vs observed rate per score decile) of each model, as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(4.5, 4.5))
    for name in ("diagnosis", "logistic"):
        groups = pd.qcut(table[name].rank(method="first"), bins, labels=False)
        means = table.groupby(groups)[[name, "problem"]].mean()
        axes.plot(means[name], means["problem"], marker="o", label=name)
    top = float(max(table["diagnosis"].max(), table["problem"].mean() * 2))
    axes.plot([0, top], [0, top], color="grey", linestyle="--", label="perfect")
    axes.set_xlabel("predicted probability (decile mean)")
    axes.set_ylabel("observed rate")
    axes.legend()
    figure.tight_layout()
    tmp = out.with_name(f".{out.name}.tmp.png")
    figure.savefig(tmp, dpi=110)
    pyplot.close(figure)
    tmp.replace(out)


def _logistic(model: Diagnoser, train: pd.DataFrame, test_rows: pd.DataFrame, context: pd.DataFrame) -> np.ndarray:
    """The baseline: logistic regression alone on the diagnosis model's own features (``test_rows``:
    the test orders' feature rows)."""
    labelled = train[train["problem"].notna()].reset_index(drop=True)
    rows = model.features(labelled, context)
    fitted = linear_model(rows).fit(rows, labelled["problem"].astype(int))
    return fitted.predict_proba(test_rows)[:, 1]


def _hashed(values: pd.Series, share: float) -> pd.Series:
    """A fixed pseudo-random ``share`` of the values (by hash, so one value is always on one side)."""
    return values.map(lambda value: int(hashlib.sha256(f"test:{value}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share)


def _nonempty(frame: pd.DataFrame, side: str) -> pd.DataFrame:
    if frame["problem"].notna().sum() == 0:
        raise DataError(f"the split leaves no labelled {side} orders")
    return frame.reset_index(drop=True)


def _span(frame: pd.DataFrame) -> list[str]:
    return [str(frame["ordered_at"].min().date()), str(frame["ordered_at"].max().date())]
