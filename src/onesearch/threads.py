"""The batch-1 thread policy both searchers share: one PyTorch and one FAISS thread per request.

Contract: ``for_batch(size)`` is a context manager that, for a batch of one request, runs its
block with one PyTorch and one FAISS (OpenMP) thread and restores both counts after, even on
error; for larger batches it changes nothing. Searchers wrap the work after their query
encoder in it (the encoder keeps its threads: it is the same call in both searchers). At batch 1
the products are too small to split (FAISS splits a search by query, so a second thread only
waits), and a waiting thread burns CPU too. The environment variable ``ONESEARCH_BATCH1_THREADS``
set to ``keep`` turns the policy off (the libraries' own thread counts), e.g. to measure it.
Service threads may enter at once: PyTorch's count is the process's, so the first to enter saves
it and the last to leave restores it; FAISS's (OpenMP's) is each thread's own. ``builder()`` is the
policy of a service's catalog changes, built beside the searches: one thread in every library
(numpy's BLAS included), so a change never takes the cores from the requests.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

__all__ = ["builder", "for_batch", "one_thread"]

_lock = threading.Lock()
_inside = 0  # threads inside one_thread now
_saved = 0  # the PyTorch count the first of them found


def for_batch(size: int) -> AbstractContextManager[None]:
    """``one_thread()`` for a batch of one request (unless the policy is off), else a no-op."""
    return one_thread() if size == 1 and os.environ.get("ONESEARCH_BATCH1_THREADS") != "keep" else nullcontext()


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the block with one PyTorch and one FAISS thread, restoring both counts after. Threads
    that enter at once share it: the first saves the counts, the last to leave restores them."""
    import faiss
    import torch

    global _inside, _saved
    with _lock:
        if _inside == 0:
            _saved = torch.get_num_threads()
            torch.set_num_threads(1)
        _inside += 1
    faiss_threads = faiss.omp_get_max_threads()  # OpenMP's count is the calling thread's own
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(faiss_threads)
        with _lock:
            _inside -= 1
            if _inside == 0:
                torch.set_num_threads(_saved)


@contextmanager
def builder() -> Iterator[None]:
    """Run the block with one thread in PyTorch, FAISS and numpy's BLAS (whose count is the
    process's: searches inside the block's time get one too, as they would at batch 1)."""
    from threadpoolctl import threadpool_limits

    with one_thread(), threadpool_limits(limits=1, user_api="blas"):
        yield
