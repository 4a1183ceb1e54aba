"""Features of an order at the moment it is diagnosed: its own order-time fields and its context.

Contract: ``order_features(orders, context, history, spec)`` returns one row per order of
``orders`` (same order), numeric columns plus the categorical fields of ``spec``. Nothing reads
an outcome except the rate columns, and those read ``history`` only: labelled orders placed at
least ``spec.outcome_lag_days`` before the order (so never the order itself, and, in an
evaluation, never a test order: the caller passes the training orders as ``history``). The
count columns read ``context`` — every known order, labels unused — in the window ``(t - w, t]``:
an order with a date alone stands for its day's batch, diagnosed at the end of the day, so the
day's other orders count (where times are known, only earlier and simultaneous ones do); with
``batch=False`` the window is ``(t - w, t)``: nothing of the order's own instant (day) counts. The
amount-deviation columns read context orders placed strictly before the order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from onesearch.orders.schema import KEY_FIELDS

__all__ = ["CATEGORICAL", "COUNT_KEYS", "RATE_KEYS", "FeatureSpec", "describe", "fit_spec", "order_features"]

CATEGORICAL = ("channel", "service_level", "fulfilment", "region", "country", "business", "category", "variant")
COUNT_KEYS = (("postal_code",), ("city",), ("region",), ("customer_id",), ("item_id",), ("postal_code", "category"),
              ("postal_code", "category", "variant"), ("region", "category", "variant"), ("customer_id", "item_id"), ())
RATE_KEYS = (("postal_code",), ("city",), ("region",), ("customer_id",), ("item_id",), ("category",), ("category", "variant"),
             ("fulfilment", "service_level"))
VALUE_KEYS = (("item_id",), ("category", "variant"), ("customer_id",))
DAY = 86_400
SHIFT = 1 << 34  # composite sort key: key code * SHIFT + seconds (spans 500 years)


@dataclass(frozen=True)
class FeatureSpec:
    """Which keys and fields a data set supports, fixed at fit time (``fit_spec``)."""

    count_keys: tuple[tuple[str, ...], ...]
    rate_keys: tuple[tuple[str, ...], ...]
    value_keys: tuple[tuple[str, ...], ...]
    categories: dict[str, list[str]] = field(default_factory=dict)
    windows_days: tuple[int, ...] = (1, 7)
    outcome_lag_days: float = 1.0
    prior: float = 20.0
    timed: bool = False  # orders carry a time of day (hour features)
    batch: bool = True  # counts include orders placed at the same instant (a dated order's whole day)


def fit_spec(history: pd.DataFrame, windows_days: tuple[int, ...] = (1, 7), outcome_lag_days: float = 1.0, prior: float = 20.0,
             max_levels: int = 60, batch: bool = True) -> FeatureSpec:
    """The keys whose fields ``history`` fills, and the categorical levels it has (most common
    ``max_levels``; rarer and unseen levels read as missing)."""
    present = {column for column in history.columns if history[column].notna().mean() > 0.5}
    usable = lambda keys: tuple(key for key in keys if set(key) <= present)  # noqa: E731
    repeat = tuple(column for column in KEY_FIELDS if column in present)  # the same order again: every field equal
    categories = {column: [str(level) for level in history[column].value_counts().index[:max_levels]]
                  for column in CATEGORICAL if column in present and history[column].nunique() > 1}
    timed = bool((history["ordered_at"].dt.normalize() != history["ordered_at"]).any())
    return FeatureSpec(usable(COUNT_KEYS) + (repeat,), usable(RATE_KEYS), usable(VALUE_KEYS), categories, tuple(windows_days), outcome_lag_days, prior, timed, batch)


def order_features(orders: pd.DataFrame, context: pd.DataFrame, history: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """The feature table of ``orders`` (module docstring)."""
    features = pd.DataFrame(index=orders.index)
    features["lines"] = orders["lines"].astype("float64")
    features["quantity"] = orders["quantity"]
    features["amount"] = orders["amount"]
    features["weekday"] = orders["ordered_at"].dt.day_of_week.astype("float64")
    if spec.timed:
        features["hour"] = orders["ordered_at"].dt.hour.astype("float64")
    for column, levels in spec.categories.items():
        values = orders[column].astype(object)
        features[column] = pd.Categorical(values.where(values.isin(levels)), categories=levels)
    seconds, context_seconds = _seconds(orders), _seconds(context)
    for keys in spec.count_keys:
        query, known = _codes(orders, context, keys)
        for days in spec.windows_days:
            features[f"count.{_name(keys)}.{days}d"] = _window_counts(known, context_seconds, query, seconds if spec.batch else seconds - 1, days * DAY)
    labelled = history[history["problem"].notna()]
    lagged = seconds - int(spec.outcome_lag_days * DAY)
    everyone, everyone_known = _codes(orders, labelled, ())
    seen_all, positive_all = _as_of_sums(everyone_known, _seconds(labelled), labelled["problem"].to_numpy(), everyone, lagged)
    base = np.where(seen_all > 0, positive_all / np.maximum(seen_all, 1), 0.0)  # the as-of rate of every order
    for keys in spec.rate_keys:
        query, known = _codes(orders, labelled, keys)
        seen, positive = _as_of_sums(known, _seconds(labelled), labelled["problem"].to_numpy(), query, lagged)
        features[f"rate.{_name(keys)}"] = (positive + spec.prior * base) / (seen + spec.prior)
        features[f"seen.{_name(keys)}"] = seen
    for keys in spec.value_keys:
        query, known = _codes(orders, context, keys)
        amounts = context["amount"].to_numpy(dtype="float64")
        have = ~np.isnan(amounts)
        seen, total = _as_of_sums(np.where(have, known, -1), context_seconds, np.nan_to_num(amounts), query, seconds - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            features[f"amount_vs.{_name(keys)}"] = orders["amount"].to_numpy() / np.where(seen > 0, total / np.maximum(seen, 1), np.nan)
    return features


def describe(column: str, value: float) -> str:
    """A merchant-readable phrase for one feature value (for the reasons of a diagnosis)."""
    kind, _, rest = column.partition(".")
    keys, _, window = rest.partition(".")
    repeat = keys.count("+") > 3
    what = keys.replace("+", ", ").replace("_", " ")
    if kind == "count":
        days = int(window.rstrip("d") or 0)
        span = "the same day" if days == 1 else f"{days} days"
        if repeat:
            return f"the same order placed {value:g} times within {span}"
        return f"{value:g} orders with the same {what} within {span}" if keys else f"{value:g} orders in all within {span}"
    if kind == "rate":
        return f"earlier orders with the same {what} went wrong {value:.0%} of the time"
    if kind == "seen":
        return f"{value:g} earlier orders with the same {what}"
    if kind == "amount_vs":
        return f"amount is {value:.1f}x the usual for the same {what}"
    return f"{column.replace('_', ' ')}: {value if isinstance(value, str) else f'{value:g}'}"


def _name(keys: tuple[str, ...]) -> str:
    return "+".join(keys)


def _seconds(frame: pd.DataFrame) -> np.ndarray:
    return (frame["ordered_at"].to_numpy(dtype="datetime64[s]").astype("int64") - np.datetime64("1970-01-01", "s").astype("int64")) + 100 * 365 * DAY


def _codes(orders: pd.DataFrame, other: pd.DataFrame, keys: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Shared integer codes of ``keys`` in both frames; -1 where a field is missing."""
    if not keys:
        return np.zeros(len(orders), dtype="int64"), np.zeros(len(other), dtype="int64")
    joined = pd.concat([orders[list(keys)], other[list(keys)]], ignore_index=True)
    missing = joined.isna().any(axis=1).to_numpy()
    codes = joined.astype(object).fillna("").groupby(list(keys), sort=False, dropna=False).ngroup().to_numpy().astype("int64")
    codes[missing] = -1
    return codes[: len(orders)], codes[len(orders):]


def _window_counts(known: np.ndarray, known_seconds: np.ndarray, query: np.ndarray, seconds: np.ndarray, width: int) -> np.ndarray:
    """How many known rows share the query's code with a time in ``(t - width, t]`` (NaN: no code)."""
    composite = np.sort(known[known >= 0] * SHIFT + known_seconds[known >= 0])
    high = np.searchsorted(composite, query * SHIFT + seconds, side="right")
    low = np.searchsorted(composite, query * SHIFT + seconds - width, side="right")
    return np.where(query >= 0, high - low, np.nan).astype("float64")


def _as_of_sums(known: np.ndarray, known_seconds: np.ndarray, values: np.ndarray, query: np.ndarray, until: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, sum of ``values``) of known rows with the query's code and a time ``<= until``."""
    keep = known >= 0
    composite = known[keep] * SHIFT + known_seconds[keep]
    order = np.argsort(composite, kind="stable")
    composite, cumulative = composite[order], np.concatenate([[0.0], np.cumsum(values[keep][order])])
    low = np.searchsorted(composite, query * SHIFT, side="left")
    high = np.searchsorted(composite, query * SHIFT + until, side="right")
    high = np.maximum(high, low)
    seen = np.where(query >= 0, high - low, 0).astype("float64")
    return seen, np.where(query >= 0, cumulative[high] - cumulative[low], 0.0)
