"""The diagnosis model: calibrated cancellation risk, an anomaly score, reasons, the ship-first list.

Contract: ``Diagnoser.fit(history)`` learns from labelled orders only (rows with no outcome yet
are context, never examples). ``score(orders, context)`` gives calibrated probabilities;
``diagnose(orders)`` adds each order's flag (``check``: suspected abnormal, check it before
shipping; ``ship first``: not suspect, and among the orders whose quick shipping saves the
most expected value), its ship-first rank and its reasons (the top feature contributions, in
words). The risk is a LightGBM booster over ``orders.features``; its log-odds and an isolation
forest's anomaly score are combined and calibrated by a logistic regression fitted on the
latest ``calibration_share`` of the training orders (by time), on a booster that did not see
them; the booster is then refit on everything. ``save`` / ``load`` keep it as one directory
(written whole or not at all), with the training orders it needs as context.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import joblib
import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.linear_model import LogisticRegression

from onesearch.artifacts import atomic_directory, read_manifest, write_manifest
from onesearch.errors import DataError
from onesearch.orders.features import FeatureSpec, describe, fit_spec, order_features

__all__ = ["DiagnosisConfig", "Diagnoser", "load_diagnoser"]

KIND = "order-diagnosis"


@dataclass(frozen=True)
class DiagnosisConfig:
    """Booster, calibration and list settings (defaults tuned on the Amazon India training months)."""

    trees: int = 400
    learning_rate: float = 0.03
    leaves: int = 31
    min_child_samples: int = 50
    calibration_share: float = 0.15
    check_share: float = 0.05  # share of orders flagged ``check`` (threshold from the calibration orders)
    ship_first: int = 20  # length of the ship-first list
    reasons: int = 3
    seed: int = 0


class Diagnoser:
    """A fitted diagnosis model (module docstring)."""

    def __init__(self, config: DiagnosisConfig, spec: FeatureSpec, booster: lgb.Booster, combine: LogisticRegression,
                 forest: IsolationForest, history: pd.DataFrame, threshold: float, anomaly_reference: np.ndarray) -> None:
        self.config, self.spec, self.booster, self.combine, self.forest = config, spec, booster, combine, forest
        self.history, self.threshold, self.anomaly_reference = history, threshold, anomaly_reference

    @classmethod
    def fit(cls, orders: pd.DataFrame, config: DiagnosisConfig | None = None, context: pd.DataFrame | None = None) -> Diagnoser:
        """Learn from the labelled rows of ``orders`` (context: every known order, default ``orders``)."""
        config = config or DiagnosisConfig()
        labelled = orders[orders["problem"].notna()].reset_index(drop=True)
        if len(labelled) < 50 or labelled["problem"].nunique() < 2:
            raise DataError(f"too few labelled orders to learn from ({len(labelled)}, {int(labelled['problem'].sum()) if len(labelled) else 0} went wrong): need 50 with both outcomes")
        context = orders if context is None else context
        spec = fit_spec(labelled)
        features = order_features(labelled, context, labelled, spec)
        target = labelled["problem"].to_numpy().astype(int)
        cut = int(len(labelled) * (1 - config.calibration_share))
        early = _booster(features.iloc[:cut], target[:cut], config)
        forest = IsolationForest(n_estimators=200, random_state=config.seed).fit(_numeric(features.iloc[:cut]))
        reference = np.sort(-forest.score_samples(_numeric(features.iloc[:cut])))
        late = features.iloc[cut:]
        stacked = _stack(early, forest, reference, late)
        combine = LogisticRegression(C=1.0).fit(stacked, target[cut:])
        threshold = float(np.quantile(combine.predict_proba(stacked)[:, 1], 1 - config.check_share))
        booster = _booster(features, target, config)
        return cls(config, spec, booster, combine, forest, orders.reset_index(drop=True), threshold, reference)

    def features(self, orders: pd.DataFrame, context: pd.DataFrame | None = None) -> pd.DataFrame:
        """Feature rows of ``orders``; context = the stored orders plus ``context`` (default ``orders``)."""
        known = pd.concat([self.history, orders if context is None else context], ignore_index=True).drop_duplicates("order_id", keep="last")
        return order_features(orders.reset_index(drop=True), known, self.history, self.spec)

    def score(self, orders: pd.DataFrame, context: pd.DataFrame | None = None) -> np.ndarray:
        """Calibrated probability that each order goes wrong."""
        return self.combine.predict_proba(_stack(self.booster, self.forest, self.anomaly_reference, self.features(orders, context)))[:, 1]

    def diagnose(self, orders: pd.DataFrame, context: pd.DataFrame | None = None) -> pd.DataFrame:
        """One row per order: order_id, risk, anomaly, flag, ship_rank, value, saved_value, reasons."""
        features = self.features(orders, context)
        anomaly = _anomaly(self.forest, self.anomaly_reference, features)
        risk = self.combine.predict_proba(_stack(self.booster, self.forest, self.anomaly_reference, features))[:, 1]
        value = self._value(orders.reset_index(drop=True), features)
        out = pd.DataFrame({"order_id": orders["order_id"].to_numpy(), "risk": risk.round(4), "anomaly": anomaly.round(4),
                            "value": value.round(2), "saved_value": (risk * value).round(2)})
        out["flag"] = np.where(risk >= self.threshold, "check", "")
        candidates = out.index[out["flag"] == ""][np.argsort(-out.loc[out["flag"] == "", "saved_value"].to_numpy(), kind="stable")]
        out["ship_rank"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out.loc[candidates, "ship_rank"] = np.arange(1, len(candidates) + 1)
        out.loc[candidates[: self.config.ship_first], "flag"] = "ship first"
        out["reasons"] = self.reasons(features)
        return out

    def reasons(self, features: pd.DataFrame) -> list[str]:
        """The top positive contributions to each order's risk, as one readable line."""
        contributions = self.booster.predict(features, pred_contrib=True)[:, :-1]
        names = list(features.columns)
        lines = []
        for row, contribution in enumerate(contributions):
            top = [index for index in np.argsort(-contribution)[: self.config.reasons] if contribution[index] > 0]
            lines.append("; ".join(describe(names[index], _cell(features.iat[row, index])) for index in top))
        return lines

    def _value(self, orders: pd.DataFrame, features: pd.DataFrame) -> np.ndarray:
        """The order's amount where known when it was placed, else the usual amount of its kind, else 1."""
        value = orders["amount"].to_numpy(dtype="float64")
        usual = self.history.groupby([column for column in ("category", "variant") if self.history[column].notna().any()] or ["channel"], dropna=False)["amount"].mean()
        if usual.notna().any():
            keys = [column for column in usual.index.names]
            fallback = orders[keys].merge(usual.rename("usual").reset_index(), on=keys, how="left")["usual"].to_numpy()
            value = np.where(np.isnan(value), fallback, value)
        return np.where(np.isnan(value), 1.0, value)

    def save(self, out: str | Path, inputs: dict[str, str | Path] | None = None, **extra: Any) -> None:
        """Write the model directory (atomically)."""
        with atomic_directory(out) as tmp:
            self.booster.save_model(str(tmp / "booster.txt"))
            joblib.dump({"combine": self.combine, "forest": self.forest, "reference": self.anomaly_reference}, tmp / "calibration.joblib")
            self.history.to_parquet(tmp / "history.parquet", index=False)
            (tmp / "spec.json").write_text(json.dumps({"spec": asdict(self.spec), "threshold": self.threshold}, indent=1), encoding="utf-8")
            write_manifest(tmp, KIND, asdict(self.config), inputs or {}, **extra)


def load_diagnoser(directory: str | Path) -> Diagnoser:
    """A saved ``Diagnoser`` (``DataError`` for a folder that is not one)."""
    directory = Path(directory)
    manifest = read_manifest(directory, KIND)
    try:
        stored = json.loads((directory / "spec.json").read_text(encoding="utf-8"))
        parts = joblib.load(directory / "calibration.joblib")
        booster = lgb.Booster(model_file=str(directory / "booster.txt"))
        history = pd.read_parquet(directory / "history.parquet")
    except (OSError, ValueError, KeyError, lgb.basic.LightGBMError) as error:
        raise DataError(f"broken order-diagnosis model ({error})", path=directory) from None
    raw = stored["spec"]
    spec = FeatureSpec(**{**raw, **{name: tuple(tuple(key) for key in raw[name]) for name in ("count_keys", "rate_keys", "value_keys")},
                          "windows_days": tuple(raw["windows_days"])})
    return Diagnoser(DiagnosisConfig(**manifest["config"]), spec, booster, parts["combine"], parts["forest"], history,
                     float(stored["threshold"]), parts["reference"])


def _booster(features: pd.DataFrame, target: np.ndarray, config: DiagnosisConfig) -> lgb.Booster:
    params = {"objective": "binary", "learning_rate": config.learning_rate, "num_leaves": config.leaves,
              "min_child_samples": config.min_child_samples, "bagging_fraction": 0.8, "bagging_freq": 1, "feature_fraction": 0.8,
              "seed": config.seed, "num_threads": 2, "verbose": -1, "deterministic": True}
    return lgb.train(params, lgb.Dataset(features, target), num_boost_round=config.trees)


def _numeric(features: pd.DataFrame) -> np.ndarray:
    numbers = features.select_dtypes("number").to_numpy(dtype="float64")
    return np.nan_to_num(np.sign(numbers) * np.log1p(np.abs(numbers)), nan=-1.0)


def _anomaly(forest: IsolationForest, reference: np.ndarray, features: pd.DataFrame) -> np.ndarray:
    """How unusual each order is: the share of training orders less unusual (0..1)."""
    return np.searchsorted(reference, -forest.score_samples(_numeric(features)), side="right") / max(len(reference), 1)


def _stack(booster: lgb.Booster, forest: IsolationForest, reference: np.ndarray, features: pd.DataFrame) -> np.ndarray:
    raw = booster.predict(features, raw_score=True)
    return np.column_stack([raw, _anomaly(forest, reference, features)])


def _cell(value: Any) -> Any:
    return value if isinstance(value, str) else (float(value) if pd.notna(value) else float("nan"))
