"""The diagnosis model: calibrated cancellation risk, an anomaly score, reasons, the ship-first list.

Contract: ``Diagnoser.fit(history)`` learns from labelled orders only (rows with no outcome yet
are context, never examples). ``score(orders, context)`` gives calibrated probabilities;
``diagnose(orders)`` adds each order's flag (``check``: suspected abnormal, check it before
shipping; ``ship first``: not suspect, and among the orders whose quick shipping saves the
most expected value), its ship-first rank and its reasons (the top feature contributions, in
words). The risk stacks three scorers over ``orders.features`` (``Parts``): a LightGBM booster,
a linear model, and an isolation forest's anomaly score; a logistic regression fitted on the
latest ``calibration_share`` of the training orders (by time), on scorers that did not see
them, combines and calibrates them; booster and linear model are then refit on everything. ``save`` / ``load`` keep it as one directory
(written whole or not at all), with the training orders it needs as context.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import joblib
import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import IsolationForest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from onesearch.artifacts import atomic_directory, read_manifest, write_manifest
from onesearch.errors import DataError
from onesearch.orders.features import FeatureSpec, describe, fit_spec, order_features
from onesearch.orders.schema import check_lines, lines_to_orders

__all__ = ["DiagnosisConfig", "Diagnoser", "Parts", "linear_model", "load_diagnoser"]

KIND = "order-diagnosis"


@dataclass(frozen=True)
class DiagnosisConfig:
    """Booster, calibration and list settings (defaults tuned on the Amazon India training months)."""

    trees: int = 600
    learning_rate: float = 0.02
    leaves: int = 7
    min_child_samples: int = 300
    l2: float = 10.0
    max_cat_threshold: int = 8
    calibration_share: float = 0.15
    check_share: float = 0.05  # share of orders flagged ``check`` (threshold from the calibration orders)
    ship_first: int = 20  # length of the ship-first list
    reasons: int = 3
    batch: bool = True  # count the orders of the same day's batch (``orders.features``)
    seed: int = 0


class Diagnoser:
    """A fitted diagnosis model (module docstring)."""

    def __init__(self, config: DiagnosisConfig, spec: FeatureSpec, parts: Parts, combine: LogisticRegression, history: pd.DataFrame,
                 threshold: float) -> None:
        self.config, self.spec, self.parts, self.combine = config, spec, parts, combine
        self.history, self.threshold = history, threshold

    @classmethod
    def fit(cls, orders: pd.DataFrame, config: DiagnosisConfig | None = None, context: pd.DataFrame | None = None) -> Diagnoser:
        """Learn from the labelled rows of ``orders`` (context: every known order, default ``orders``)."""
        config = config or DiagnosisConfig()
        labelled = orders[orders["problem"].notna()].reset_index(drop=True)
        if len(labelled) < 50 or labelled["problem"].nunique() < 2:
            raise DataError(f"too few labelled orders to learn from ({len(labelled)}, {int(labelled['problem'].sum()) if len(labelled) else 0} went wrong): need 50 with both outcomes")
        context = orders if context is None else context
        spec = fit_spec(labelled, batch=config.batch)
        features = order_features(labelled, context, labelled, spec)
        target = labelled["problem"].to_numpy().astype(int)
        cut = int(len(labelled) * (1 - config.calibration_share))
        head = Parts.fit(features.iloc[:cut], target[:cut], config)
        stacked = head.stack(features.iloc[cut:])
        combine = LogisticRegression(C=1.0).fit(stacked, target[cut:])
        threshold = float(np.quantile(combine.predict_proba(stacked)[:, 1], 1 - config.check_share))
        parts = Parts.fit(features, target, config, forest=head.forest, reference=head.reference)
        return cls(config, spec, parts, combine, orders.reset_index(drop=True), threshold)

    def features(self, orders: pd.DataFrame, context: pd.DataFrame | None = None) -> pd.DataFrame:
        """Feature rows of ``orders``; context = the stored orders plus ``context`` (default ``orders``)."""
        known = pd.concat([self.history, orders if context is None else context], ignore_index=True).drop_duplicates("order_id", keep="last")
        return order_features(orders.reset_index(drop=True), known, self.history, self.spec)

    def score(self, orders: pd.DataFrame, context: pd.DataFrame | None = None) -> np.ndarray:
        """Calibrated probability that each order goes wrong."""
        return self.score_rows(self.features(orders, context))

    def score_rows(self, features: pd.DataFrame) -> np.ndarray:
        """``score`` of feature rows already made by ``features``."""
        return self.combine.predict_proba(self.parts.stack(features))[:, 1]

    def diagnose(self, orders: pd.DataFrame, context: pd.DataFrame | None = None) -> pd.DataFrame:
        """One row per order: order_id, risk, anomaly, flag, ship_rank, value, saved_value, reasons."""
        features = self.features(orders, context)
        stacked = self.parts.stack(features)
        anomaly, risk = stacked[:, -1], self.combine.predict_proba(stacked)[:, 1]
        value = self._value(orders.reset_index(drop=True))
        out = pd.DataFrame({"order_id": orders["order_id"].to_numpy(), "risk": risk.round(4), "anomaly": anomaly.round(4),
                            "value": value.round(2), "saved_value": (risk * value).round(2)})
        out["flag"] = np.where(risk >= self.threshold, "check", "")
        candidates = out.index[out["flag"] == ""][np.argsort(-out.loc[out["flag"] == "", "saved_value"].to_numpy(), kind="stable")]
        out["ship_rank"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out.loc[candidates, "ship_rank"] = np.arange(1, len(candidates) + 1)
        out.loc[candidates[: self.config.ship_first], "flag"] = "ship first"
        out["reasons"] = self.reasons(features)
        return out

    def diagnose_records(self, lines: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """``diagnose`` over generic lines given as records (the service's batch); ``DataError``
        names the request row of a bad cell."""
        orders = lines_to_orders(check_lines(pd.DataFrame.from_records(list(lines)), "request"))
        out = self.diagnose(orders).astype(object)
        return out.where(out.notna(), None).to_dict("records")

    def reasons(self, features: pd.DataFrame) -> list[str]:
        """The top positive contributions to each order's risk, as one readable line."""
        contributions = self.parts.booster.predict(features, pred_contrib=True)[:, :-1]
        names = list(features.columns)
        lines = []
        topic = [name.rsplit(".", 1)[0] if name.startswith("count.") else name for name in names]  # one window per key
        for row, contribution in enumerate(contributions):
            chosen: list[int] = []
            for index in np.argsort(-contribution):
                if contribution[index] <= 0 or len(chosen) == self.config.reasons:
                    break
                if all(topic[index] != topic[other] for other in chosen):
                    chosen.append(index)
            lines.append("; ".join(describe(names[index], _cell(features.iat[row, index])) for index in chosen))
        return lines

    def _value(self, orders: pd.DataFrame) -> np.ndarray:
        """The order's amount where known when it was placed, else the usual amount of its kind, else 1."""
        value = orders["amount"].to_numpy(dtype="float64")
        kinds = [column for column in ("category", "variant") if self.history[column].notna().any()]
        if kinds and self.history["amount"].notna().any():
            usual = self.history.groupby(kinds)["amount"].mean().rename("usual").reset_index()
            value = np.where(np.isnan(value), orders[kinds].merge(usual, on=kinds, how="left")["usual"].to_numpy(dtype="float64"), value)
        return np.where(np.isnan(value), 1.0, value)

    def save(self, out: str | Path, inputs: dict[str, str | Path] | None = None, **extra: Any) -> None:
        """Write the model directory (atomically)."""
        with atomic_directory(out) as tmp:
            self.parts.booster.save_model(str(tmp / "booster.txt"))
            joblib.dump({"combine": self.combine, "linear": self.parts.linear, "forest": self.parts.forest, "reference": self.parts.reference}, tmp / "parts.joblib")
            self.history.to_parquet(tmp / "history.parquet", index=False)
            (tmp / "spec.json").write_text(json.dumps({"spec": asdict(self.spec), "threshold": self.threshold}, indent=1), encoding="utf-8")
            write_manifest(tmp, KIND, asdict(self.config), inputs or {}, **extra)


def load_diagnoser(directory: str | Path) -> Diagnoser:
    """A saved ``Diagnoser`` (``DataError`` for a folder that is not one)."""
    directory = Path(directory)
    manifest = read_manifest(directory, KIND)
    try:
        stored = json.loads((directory / "spec.json").read_text(encoding="utf-8"))
        stored_parts = joblib.load(directory / "parts.joblib")
        booster = lgb.Booster(model_file=str(directory / "booster.txt"))
        history = pd.read_parquet(directory / "history.parquet")
    except (OSError, ValueError, KeyError, lgb.basic.LightGBMError) as error:
        raise DataError(f"broken order-diagnosis model ({error})", path=directory) from None
    raw = stored["spec"]
    spec = FeatureSpec(**{**raw, **{name: tuple(tuple(key) for key in raw[name]) for name in ("count_keys", "rate_keys", "value_keys")},
                          "windows_days": tuple(raw["windows_days"])})
    parts = Parts(booster, stored_parts["linear"], stored_parts["forest"], stored_parts["reference"])
    return Diagnoser(DiagnosisConfig(**manifest["config"]), spec, parts, stored_parts["combine"], history, float(stored["threshold"]))


@dataclass
class Parts:
    """The stacked scorers: a booster, a linear model on the same features, an isolation forest
    (``reference``: its training orders' sorted anomaly scores)."""

    booster: lgb.Booster
    linear: Pipeline
    forest: IsolationForest
    reference: np.ndarray

    @classmethod
    def fit(cls, features: pd.DataFrame, target: np.ndarray, config: DiagnosisConfig, forest: IsolationForest | None = None,
            reference: np.ndarray | None = None) -> Parts:
        """Fit the booster and the linear model (and, unless given, the forest) on these rows."""
        if forest is None:
            forest = IsolationForest(n_estimators=200, random_state=config.seed).fit(_numeric(features))
            reference = np.sort(-forest.score_samples(_numeric(features)))
        return cls(_booster(features, target, config), linear_model(features).fit(features, target), forest, reference)  # type: ignore[arg-type]

    def anomaly(self, features: pd.DataFrame) -> np.ndarray:
        """How unusual each order is: the share of training orders less unusual (0..1)."""
        return np.searchsorted(self.reference, -self.forest.score_samples(_numeric(features)), side="right") / max(len(self.reference), 1)

    def stack(self, features: pd.DataFrame) -> np.ndarray:
        """Columns: booster log-odds, linear log-odds, anomaly (the last, by contract)."""
        return np.column_stack([self.booster.predict(features, raw_score=True), self.linear.decision_function(features), self.anomaly(features)])


def linear_model(features: pd.DataFrame) -> Pipeline:
    """Logistic regression over feature rows: one-hot categories, scaled signed-log numbers, missing-value flags."""
    categorical = [column for column in features.columns if isinstance(features[column].dtype, pd.CategoricalDtype)]
    numeric = [column for column in features.columns if column not in categorical]
    prepare = ColumnTransformer([
        ("categories", make_pipeline(FunctionTransformer(_as_text), OneHotEncoder(handle_unknown="ignore", min_frequency=20)), categorical),
        ("numbers", make_pipeline(FunctionTransformer(_signed_log), SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True), StandardScaler()), numeric),
    ])
    return make_pipeline(prepare, LogisticRegression(C=0.1, max_iter=2000))


def _as_text(frame: pd.DataFrame) -> np.ndarray:
    return frame.astype(object).fillna("(none)").astype(str).to_numpy()


def _signed_log(frame: pd.DataFrame) -> np.ndarray:
    numbers = frame.to_numpy(dtype="float64")
    return np.sign(numbers) * np.log1p(np.abs(numbers))


def _booster(features: pd.DataFrame, target: np.ndarray, config: DiagnosisConfig) -> lgb.Booster:
    params = {"objective": "binary", "learning_rate": config.learning_rate, "num_leaves": config.leaves,
              "min_child_samples": config.min_child_samples, "lambda_l2": config.l2, "cat_smooth": 50, "min_data_per_group": 200,
              "max_cat_threshold": config.max_cat_threshold, "bagging_fraction": 0.8, "bagging_freq": 1, "feature_fraction": 0.8,
              "seed": config.seed, "num_threads": 2, "verbose": -1, "deterministic": True}
    return lgb.train(params, lgb.Dataset(features, target), num_boost_round=config.trees)


def _numeric(features: pd.DataFrame) -> np.ndarray:
    return np.nan_to_num(_signed_log(features.select_dtypes("number")), nan=-1.0)


def _cell(value: Any) -> Any:
    return value if isinstance(value, str) else (float(value) if pd.notna(value) else float("nan"))
