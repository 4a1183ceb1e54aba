"""Search latency while catalog changes are built beside the searches, at a chosen builder priority.

    .venv/bin/python benchmarks/bench_builder_priority.py [--nice 10] [--threads 4] [--bundle configs/serve/homedepot.toml] [--model DIR]

Opens the bundle's ``Deployment`` in this process (no HTTP, state and event log off), settles the
heap as ``onesearch serve`` does, starts ``--threads`` search threads looping over a few queries
on the generative searcher, and after 5 s runs on one more thread, at niceness ``--nice`` (Linux:
per thread; the service's builder uses ``serving.admin.BUILDER_NICE``), a reload, a one-item
upsert and a 100-item upsert, each followed by ``release_memory`` as the service does. It prints
each change's seconds and the searches' p50/p99 before and after the changes (steady) and while
they were built (during). This is what chose the service's builder niceness (operations.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import threading
import time
from pathlib import Path

import numpy as np

from _machine import machine
from onesearch.deploy.bundle import Bundle
from onesearch.deploy.deployment import Deployment
from onesearch.memory import release_memory, settle_heap
from onesearch.types import SearchRequest, UserContext

QUERIES = ("cordless drill", "paint roller", "toilet seat", "garden hose", "led bulb", "door knob")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=Path("configs/serve/homedepot.toml"))
    parser.add_argument("--model", default="runs/cache/homedepot-8f4b962ece7f/generative-dual-e0256068d1")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--nice", type=int, default=10)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    spec = dataclasses.replace(Bundle.read(args.bundle), model=args.model, events=None, state=None, beam=0)
    deployment = Deployment.open(spec, args.data, log=lambda _: None)
    settle_heap()
    stop = threading.Event()
    latencies: list[tuple[float, float]] = []

    def search(first: int) -> None:
        n = first
        while not stop.is_set():
            started = time.perf_counter()
            deployment.engine.search("generative", [SearchRequest(QUERIES[n % len(QUERIES)], UserContext(None))], 10)
            latencies.append((started, time.perf_counter() - started))
            n += 1

    def build() -> None:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), args.nice)
        for name, change in (("reload", deployment.reload),
                             ("one item", lambda: deployment.upsert([{"item_id": "bench-1", "title": "benchmark violet cordless kimono drill"}])),
                             ("100 items", lambda: deployment.upsert([{"item_id": f"bench-b{n}", "title": f"benchmark cordless drill kit {n} volt"} for n in range(100)]))):
            started = time.perf_counter()
            change()
            release_memory()
            print(f"{name}: {time.perf_counter() - started:.2f} s", flush=True)

    searchers = [threading.Thread(target=search, args=(i,)) for i in range(args.threads)]
    for thread in searchers:
        thread.start()
    time.sleep(5)
    began = time.perf_counter()
    builder = threading.Thread(target=build)
    builder.start()
    builder.join()
    ended = time.perf_counter()
    time.sleep(8)
    stop.set()
    for thread in searchers:
        thread.join()
    during = np.array([s for t, s in latencies if began <= t <= ended])
    steady = np.array([s for t, s in latencies if t < began or t > ended + 1])
    print(f"{machine()}; niceness {args.nice}, {args.threads} search threads: steady p50 {1000 * np.median(steady):.0f} ms, p99 {1000 * np.quantile(steady, 0.99):.0f} ms "
          f"({len(steady)} searches); during the changes p50 {1000 * np.median(during):.0f} ms, p99 {1000 * np.quantile(during, 0.99):.0f} ms ({len(during)}; {ended - began:.1f} s)")


if __name__ == "__main__":
    main()
