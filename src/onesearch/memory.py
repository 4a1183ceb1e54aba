"""The process memory policy of a long-running search process (the service, and every timed run).

Contract: ``settle_heap()`` collects once and moves everything alive now (a loaded catalog, its
indexes and models: most of a search process's objects) out of the cycle collector's reach, so
that later collections walk only what was made since and never hold the GIL for long (a full
walk of a loaded Home Depot deployment takes about 0.45 s: ``benchmarks/bench_upsert.py``).
Call it once a searcher is loaded, before it serves or is timed; ``warm_up`` (``WARM_UP``
searches) then runs and the heap is settled again, so what a searcher builds lazily on first use
is frozen too. ``release_memory()`` collects a replaced engine and hands freed heap pages back to the
system (glibc's ``malloc_trim``; a no-op elsewhere), so a long-running service does not creep
with each change.
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Callable

__all__ = ["WARM_UP", "release_memory", "settle_heap"]

WARM_UP = 8  # untimed searches before a searcher serves or is timed, so what it builds on first use is settled with it


def settle_heap(warm_up: Callable[[], object] | None = None) -> None:
    """Collect, then freeze what is alive; with ``warm_up``, run it and do both again (module docstring)."""
    gc.collect()
    gc.freeze()
    if warm_up is not None:
        warm_up()
        gc.collect()
        gc.freeze()


def release_memory() -> None:
    """Collect, then return freed heap pages to the system where the C library can (module docstring)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
