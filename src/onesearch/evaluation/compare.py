"""Paired comparison of two searchers over the same examples.

Contract: ``paired_comparison(baseline, other)`` takes per-example scores of one metric (same
examples, same order) and returns the mean difference ``other - baseline`` with a percentile
bootstrap confidence interval and a two-sided paired randomization (sign-flip) p-value. Both
resamplings use a fixed seed, so a report is reproducible.
"""

from __future__ import annotations

import numpy as np

__all__ = ["paired_comparison"]


def paired_comparison(
    baseline: np.ndarray, other: np.ndarray, resamples: int = 2000, confidence: float = 0.95, seed: int = 0
) -> dict[str, float]:
    """Mean of each, mean difference, its bootstrap CI and the sign-flip p-value."""
    baseline = np.asarray(baseline, dtype=float)
    other = np.asarray(other, dtype=float)
    if baseline.shape != other.shape or baseline.ndim != 1 or baseline.size == 0:
        raise ValueError("paired scores must be two non-empty vectors of equal length")
    diff = other - baseline
    rng = np.random.default_rng(seed)
    n = diff.size
    boot = diff[rng.integers(0, n, size=(resamples, n))].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    flips = rng.choice(np.array([-1.0, 1.0]), size=(resamples, n))
    null = np.abs((flips * diff).mean(axis=1))
    observed = abs(diff.mean())
    p_value = (1.0 + np.count_nonzero(null >= observed - 1e-12)) / (resamples + 1.0)
    return {
        "baseline_mean": float(baseline.mean()),
        "other_mean": float(other.mean()),
        "diff": float(diff.mean()),
        "ci_low": float(np.quantile(boot, alpha)),
        "ci_high": float(np.quantile(boot, 1.0 - alpha)),
        "p_value": float(p_value),
        "n": int(n),
    }
