"""``DenseTop``: the cheap scan refined exactly gives the exact top rows."""

from __future__ import annotations

import numpy as np
import pytest

from onesearch.decoding.dense import EXACT_BELOW, DenseTop


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("rank", [8, 64])
@pytest.mark.parametrize("rows", [EXACT_BELOW // 2, 2 * EXACT_BELOW])
@pytest.mark.parametrize("batch", [1, 7])
def test_the_scan_returns_the_exact_top_rows_best_first(batch, rows, rank):
    """Exact below ``EXACT_BELOW`` rows; above, projected (8 of 64 dimensions hold the variance) or
    not (all 64 do)."""
    rng = np.random.default_rng(0)
    vectors = _unit(rng.normal(size=(rows, rank)) @ np.eye(rank, 64) + 0.05 * rng.normal(size=(rows, 64)))
    queries = _unit(vectors[rng.integers(0, rows, batch)] + 0.1 * rng.normal(size=(batch, 64)))
    found = DenseTop(vectors).top(queries, 50)
    exact = np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :50]
    assert found.shape == (batch, 50)
    overlap = np.mean([len(set(f) & set(e)) / 50 for f, e in zip(found.tolist(), exact.tolist())])
    assert overlap == 1.0 if rows < EXACT_BELOW else overlap >= 0.97
    scores = np.take_along_axis(queries @ vectors.T, found, axis=1)
    assert (np.diff(scores, axis=1) <= 1e-6).all()


def test_asking_for_more_rows_than_exist_returns_every_row():
    vectors = _unit(np.random.default_rng(1).normal(size=(12, 8)))
    found = DenseTop(vectors).top(vectors[:1], 300)
    assert sorted(found[0].tolist()) == list(range(12))
