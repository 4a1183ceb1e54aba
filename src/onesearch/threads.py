"""The batch-1 thread policy both searchers share: one PyTorch and one FAISS thread per request.

Contract: ``for_batch(size)`` is a context manager that, for a batch of one request, runs its
block with one PyTorch and one FAISS (OpenMP) thread and restores both counts after, even on
error; for larger batches it changes nothing. Searchers wrap the work after their query
encoder in it (the encoder keeps its threads: it is the same call in both searchers). At batch 1
the products are too small to split (FAISS splits a search by query, so a second thread only
waits), and a waiting thread burns CPU too. The environment variable ``ONESEARCH_BATCH1_THREADS``
set to ``keep`` turns the policy off (the libraries' own thread counts), e.g. to measure it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

__all__ = ["for_batch", "one_thread"]


def for_batch(size: int) -> AbstractContextManager[None]:
    """``one_thread()`` for a batch of one request (unless the policy is off), else a no-op."""
    return one_thread() if size == 1 and os.environ.get("ONESEARCH_BATCH1_THREADS") != "keep" else nullcontext()


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the block with one PyTorch and one FAISS thread, restoring both counts after."""
    import faiss
    import torch

    torch_threads, faiss_threads = torch.get_num_threads(), faiss.omp_get_max_threads()
    torch.set_num_threads(1)
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(torch_threads)
        faiss.omp_set_num_threads(faiss_threads)
