"""``threads``: batch 1 runs on one thread each of PyTorch and FAISS, and the counts come back."""

from __future__ import annotations

from collections.abc import Iterator

import faiss
import pytest
import torch

from onesearch.threads import for_batch


@pytest.fixture
def two_threads() -> Iterator[None]:
    """Both libraries at two threads during the test, as found after it."""
    before = torch.get_num_threads(), faiss.omp_get_max_threads()
    torch.set_num_threads(2)
    faiss.omp_set_num_threads(2)
    yield
    torch.set_num_threads(before[0])
    faiss.omp_set_num_threads(before[1])


def test_a_batch_of_one_runs_on_one_thread_and_restores_both_counts_even_on_error(two_threads):
    with pytest.raises(RuntimeError), for_batch(1):
        assert (torch.get_num_threads(), faiss.omp_get_max_threads()) == (1, 1)
        raise RuntimeError("boom")
    assert (torch.get_num_threads(), faiss.omp_get_max_threads()) == (2, 2)


@pytest.mark.parametrize("size, policy", [(8, None), (1, "keep")])
def test_larger_batches_or_the_policy_off_keep_the_thread_counts(two_threads, monkeypatch, size, policy):
    if policy:
        monkeypatch.setenv("ONESEARCH_BATCH1_THREADS", policy)
    with for_batch(size):
        assert (torch.get_num_threads(), faiss.omp_get_max_threads()) == (2, 2)


def test_threads_inside_at_once_share_one_thread_and_the_last_to_leave_restores_the_count(two_threads):
    import threading

    from onesearch.threads import one_thread

    entered, leave = threading.Barrier(2), threading.Event()
    seen: list[int] = []

    def hold() -> None:
        with one_thread():
            entered.wait()
            leave.wait()
            seen.append(torch.get_num_threads())

    worker = threading.Thread(target=hold)
    worker.start()
    with one_thread():
        entered.wait()
        leave.set()
        worker.join()  # the other thread left first: this one still holds one thread
        assert torch.get_num_threads() == 1
    assert seen == [1] and torch.get_num_threads() == 2
