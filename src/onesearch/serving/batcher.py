"""``MicroBatcher``: concurrent requests gathered into batches for one worker thread.

Contract: ``await submit(key, job)`` returns ``run(key, jobs)[i]`` for its job. Jobs with the same
``key`` (e.g. searcher, filters, k) are run together, at most ``max_batch`` at a time; a batch is
started once it is full or its first job has waited ``max_wait`` seconds. At most ``max_queue``
jobs wait at once: beyond that ``submit`` raises ``Overloaded`` at once (the API answers 429)
instead of letting latency grow without bound; a job not answered within ``timeout`` raises
``TimeoutError`` (the API answers 504). ``workers`` threads run batches at once (a searcher is
read-only while it serves, and a batch holds the GIL only between the library calls that release
it, so a second thread uses the second core); with ``workers=1`` the model never sees two
batches at once. ``depth`` is the number of waiting jobs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any

__all__ = ["MicroBatcher", "Overloaded"]


class Overloaded(Exception):
    """The queue is full."""


class MicroBatcher:
    """Bounded queue -> batches by key -> ``workers`` worker threads."""

    def __init__(self, run: Callable[[Any, Sequence[Any]], list[Any]], max_batch: int = 16, max_wait: float = 0.005, max_queue: int = 256, timeout: float = 10.0,
                 workers: int = 2) -> None:
        self.run = run
        self.workers = max(1, workers)
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.max_queue = max_queue
        self.timeout = timeout
        self._waiting: dict[Hashable, list[tuple[Any, asyncio.Future, float]]] = {}
        self._wake: asyncio.Event | None = None
        self._tasks: list[asyncio.Task] = []

    @property
    def depth(self) -> int:
        """Jobs waiting for a batch."""
        return sum(len(jobs) for jobs in self._waiting.values())

    async def submit(self, key: Hashable, job: Any) -> Any:
        """The result of ``job`` (see module docstring)."""
        if self.depth >= self.max_queue:
            raise Overloaded(f"{self.depth} requests are waiting")
        self._start()
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append((job, future, time.monotonic()))
        assert self._wake is not None
        self._wake.set()
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.timeout)
        except TimeoutError:
            future.cancel()
            raise

    async def close(self) -> None:
        """Stop the worker (waiting jobs are cancelled)."""
        for task in self._tasks:
            task.cancel()
        self._tasks = []
        for jobs in self._waiting.values():
            for _, future, _ in jobs:
                future.cancel()
        self._waiting.clear()

    def _start(self) -> None:
        if not self._tasks or any(task.done() for task in self._tasks):
            for task in self._tasks:
                task.cancel()
            self._wake = asyncio.Event()
            self._tasks = [asyncio.get_running_loop().create_task(self._work()) for _ in range(self.workers)]

    async def _work(self) -> None:
        assert self._wake is not None
        while True:
            key = self._ready_key()
            if key is None:
                self._wake.clear()
                oldest = min((jobs[0][2] for jobs in self._waiting.values() if jobs), default=None)
                wait = None if oldest is None else max(0.0, oldest + self.max_wait - time.monotonic())
                try:
                    await asyncio.wait_for(self._wake.wait(), wait)
                except TimeoutError:
                    pass
                continue
            jobs = self._waiting[key][: self.max_batch]
            del self._waiting[key][: len(jobs)]
            if not self._waiting[key]:
                del self._waiting[key]
            live = [(job, future) for job, future, _ in jobs if not future.done()]
            if live:
                await self._answer(key, live)

    def _ready_key(self) -> Hashable | None:
        """A key whose batch is full or whose first job has waited long enough."""
        now = time.monotonic()
        for key, jobs in self._waiting.items():
            if len(jobs) >= self.max_batch or now - jobs[0][2] >= self.max_wait:
                return key
        return None

    async def _answer(self, key: Hashable, live: list[tuple[Any, asyncio.Future]]) -> None:
        try:
            results = await asyncio.to_thread(self.run, key, [job for job, _ in live])
        except Exception as error:  # the batch's requests get the error, the worker lives on
            for _, future in live:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, future), result in zip(live, results):
            if not future.done():
                future.set_result(result)
