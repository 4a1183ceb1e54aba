"""``DenseTop``: the 8-bit scan refined exactly gives the exact top rows; ``one_thread`` restores
the thread counts."""

from __future__ import annotations

import faiss
import numpy as np
import pytest
import torch

from onesearch.decoding.dense import DenseTop, one_thread


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("batch", [1, 7])
def test_the_refined_scan_returns_the_exact_top_rows_best_first(batch):
    rng = np.random.default_rng(0)
    centres = _unit(rng.normal(size=(20, 32)))
    vectors = _unit(centres[rng.integers(0, 20, 3000)] + 0.4 * rng.normal(size=(3000, 32)))
    queries = _unit(vectors[rng.integers(0, 3000, batch)] + 0.2 * rng.normal(size=(batch, 32)))
    found = DenseTop(vectors).top(queries, 50)
    exact = np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :50]
    assert found.shape == (batch, 50)
    assert np.mean([len(set(f) & set(e)) / 50 for f, e in zip(found.tolist(), exact.tolist())]) >= 0.99
    scores = np.take_along_axis(queries @ vectors.T, found, axis=1)
    assert (np.diff(scores, axis=1) <= 1e-6).all()


def test_asking_for_more_rows_than_exist_returns_every_row():
    vectors = _unit(np.random.default_rng(1).normal(size=(12, 8)))
    found = DenseTop(vectors).top(vectors[:1], 300)
    assert sorted(found[0].tolist()) == list(range(12))


def test_one_thread_restores_both_thread_counts_even_on_error():
    before = torch.get_num_threads(), faiss.omp_get_max_threads()
    with pytest.raises(RuntimeError), one_thread():
        assert (torch.get_num_threads(), faiss.omp_get_max_threads()) == (1, 1)
        raise RuntimeError("boom")
    assert (torch.get_num_threads(), faiss.omp_get_max_threads()) == before
