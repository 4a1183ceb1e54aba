"""``MicroBatcher``: batching by key, the bounded queue, timeouts and failures."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from onesearch.serving.batcher import MicroBatcher, Overloaded


def _run(coroutine):
    return asyncio.run(coroutine)


def test_concurrent_jobs_of_one_key_share_a_batch_and_keys_never_mix():
    batches = []

    def run(key, jobs):
        batches.append((key, list(jobs)))
        return [f"{key}:{job}" for job in jobs]

    async def main():
        batcher = MicroBatcher(run, max_batch=4, max_wait=0.05)
        results = await asyncio.gather(*(batcher.submit("a" if n % 2 else "b", n) for n in range(10)))
        await batcher.close()
        return results

    results = _run(main())
    assert results == [f"{'a' if n % 2 else 'b'}:{n}" for n in range(10)]
    assert all(len(jobs) <= 4 for _, jobs in batches) and len(batches) == 4  # 5 a's -> 4 + 1, 5 b's -> 4 + 1
    assert all({key} == {"a" if n % 2 else "b" for n in jobs} for key, jobs in batches)


def test_a_full_queue_refuses_at_once_and_a_slow_job_times_out():
    release = threading.Event()

    def slow(key, jobs):
        release.wait(2)
        return list(jobs)

    async def main():
        batcher = MicroBatcher(slow, max_batch=1, max_wait=0.0, max_queue=2, timeout=0.2, workers=1)
        first = asyncio.ensure_future(batcher.submit("k", 1))
        await asyncio.sleep(0.05)  # the one worker holds job 1; the queue is empty again
        waiting = [asyncio.ensure_future(batcher.submit("k", n)) for n in (2, 3)]
        await asyncio.sleep(0.01)
        started = time.monotonic()
        with pytest.raises(Overloaded):
            await batcher.submit("k", 4)
        refused_in = time.monotonic() - started
        outcomes = await asyncio.gather(first, *waiting, return_exceptions=True)
        release.set()
        await batcher.close()
        return refused_in, outcomes

    refused_in, outcomes = _run(main())
    assert refused_in < 0.05
    assert all(isinstance(o, TimeoutError) for o in outcomes)


def test_a_failing_batch_fails_its_jobs_and_the_worker_lives_on():
    def run(key, jobs):
        if key == "bad":
            raise RuntimeError("boom")
        return list(jobs)

    async def main():
        batcher = MicroBatcher(run, max_wait=0.0)
        with pytest.raises(RuntimeError, match="boom"):
            await batcher.submit("bad", 1)
        result = await batcher.submit("good", 2)
        await batcher.close()
        return result

    assert _run(main()) == 2


def test_two_workers_run_two_batches_at_once_and_one_runs_them_one_after_another():
    def overlap(workers: int) -> int:
        running, most = [0], [0]
        lock = threading.Lock()

        def run(key, jobs):
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(0.1)
            with lock:
                running[0] -= 1
            return list(jobs)

        async def main():
            batcher = MicroBatcher(run, max_batch=1, max_wait=0.0, workers=workers)
            assert await asyncio.gather(*(batcher.submit("k", n) for n in range(4))) == [0, 1, 2, 3]
            await batcher.close()

        _run(main())
        return most[0]

    assert overlap(2) == 2 and overlap(1) == 1
