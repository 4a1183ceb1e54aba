"""``threads``: batch 1 runs on one thread each of PyTorch and FAISS, and the counts come back."""

from __future__ import annotations

import faiss
import pytest
import torch

from onesearch.threads import for_batch


def test_a_batch_of_one_runs_on_one_thread_and_restores_both_counts_even_on_error():
    before = torch.get_num_threads(), faiss.omp_get_max_threads()
    with pytest.raises(RuntimeError), for_batch(1):
        assert (torch.get_num_threads(), faiss.omp_get_max_threads()) == (1, 1)
        raise RuntimeError("boom")
    assert (torch.get_num_threads(), faiss.omp_get_max_threads()) == before


def test_larger_batches_keep_the_thread_counts():
    before = torch.get_num_threads(), faiss.omp_get_max_threads()
    with for_batch(8):
        assert (torch.get_num_threads(), faiss.omp_get_max_threads()) == before
