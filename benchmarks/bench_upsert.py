"""What a catalog change costs the deployment, with no search load: one item and 100 items.

    .venv/bin/python benchmarks/bench_upsert.py [--bundle configs/serve/homedepot.toml] [--model DIR] [--repeats 5] [--profile] [--out runs/bench/upsert.json]

Opens the bundle's ``Deployment`` (state and event log off, so nothing is stored), times one
full walk of the cycle collector over it (what ``settle_heap`` spares every later collection),
settles the heap as ``onesearch serve`` does once loaded (``memory.settle_heap``), then times
``Deployment.upsert`` of one new item (median of ``--repeats``, after one untimed warm-up upsert
that loads the model's item encoder), of a batch of 100 new items and a reload of the same model
folder (median of ``--repeats``). The issue's bar (31): one
item within 1 s, 100 within 5 s. The last line is JSON.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import dataclasses
import pstats
import statistics
import time
from pathlib import Path

from _machine import machine, write_result
from onesearch.deploy.bundle import Bundle
from onesearch.deploy.deployment import Deployment
from onesearch.memory import settle_heap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bundle", type=Path, default=Path("configs/serve/homedepot.toml"))
    parser.add_argument("--model", default="runs/cache/homedepot-8f4b962ece7f/generative-dual-e0256068d1")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--profile", action="store_true", help="Also print where one single-item upsert spends its time (cProfile, top 15 by own time).")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    spec = dataclasses.replace(Bundle.read(args.bundle), model=args.model, events=None, state=None)
    deployment = Deployment.open(spec, args.data, log=lambda _: None)
    gc.collect()
    started = time.perf_counter()
    gc.collect()
    full_walk = time.perf_counter() - started
    settle_heap()
    item = lambda n: {"item_id": f"bench-upsert-{n}", "title": f"cordless drill driver kit {n} volt", "brand": "acme"}  # noqa: E731
    deployment.upsert([item(0)])
    single = []
    for n in range(1, args.repeats + 1):
        started = time.perf_counter()
        deployment.upsert([item(n)])
        single.append(time.perf_counter() - started)
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(deployment.upsert, [item(500)])
        pstats.Stats(profile).sort_stats("tottime").print_stats(15)
    batch = []
    for n in range(args.repeats):
        started = time.perf_counter()
        deployment.upsert([item(1000 * (n + 1) + k) for k in range(100)])
        batch.append(time.perf_counter() - started)
    reload = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        deployment.reload()
        reload.append(time.perf_counter() - started)
    result = {"machine": machine(), "items": len(deployment.engine.items), "single_s": round(statistics.median(single), 2), "batch_100_s": round(statistics.median(batch), 2),
              "reload_s": round(statistics.median(reload), 2), "full_gc_walk_s": round(full_walk, 2), "runs": {"single": single, "batch_100": batch, "reload": reload}}
    print(f"{machine()}\nchanges over {result['items']:,} items (medians of {args.repeats}): one item {result['single_s']} s; 100 items {result['batch_100_s']} s; "
          f"a reload {result['reload_s']} s; one full cycle-collector walk before settling the heap {result['full_gc_walk_s']} s")
    write_result(result, args.out)


if __name__ == "__main__":
    main()
