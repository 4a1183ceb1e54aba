"""Where does a cascade query spend its time? Per-stage latency at batch 1 and batch 32.

Loads (or builds) the Home Depot cascade from the eval cache, then times each stage on valid
queries: query encoding, dense ANN (FAISS), BM25 scoring, fusion + features, pre-rank, rank, and
the whole ``cascade`` searcher. Each figure is the median over repeats of the mean milliseconds
per query within a batch. Usage (after `onesearch eval --task homedepot ...` built the cache):

    .venv/bin/python benchmarks/bench_cascade_latency.py [--queries 64] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from _machine import machine
from onesearch.cascade.build import BuildSettings, build_cascade, cascade_directory
from onesearch.cascade.searchers import make_searcher
from onesearch.catalog import registry
from onesearch.catalog.context import ContextResolver
from onesearch.catalog.schema import examples_of
from onesearch.cli.data import data_root



def _median_ms(work: Callable[[list], object], batches: list[list], repeats: int) -> float:
    """Median over repeats of (total ms / queries) across all batches."""
    totals = []
    for _ in range(repeats):
        started = time.perf_counter()
        for batch in batches:
            work(batch)
        totals.append((time.perf_counter() - started) * 1000 / sum(len(b) for b in batches))
    return round(statistics.median(totals), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=Path("runs/cache"))
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    root = data_root(args.data)
    dataset = registry.load("homedepot", root)
    cascade = build_cascade(dataset, cascade_directory(args.cache, "homedepot", dataset.training_fingerprint()), BuildSettings())
    examples = [e for e in examples_of(dataset.examples) if e.split == "valid"][: args.queries]
    requests = ContextResolver(dataset).requests(examples)
    searcher = make_searcher("cascade", cascade)
    table: dict[str, dict[str, float]] = {}
    for batch_size in (1, 32):
        batches = [requests[i : i + batch_size] for i in range(0, len(requests), batch_size)]
        vectors = {id(b): cascade.encode_queries(b) for b in batches}
        channels = {id(b): cascade.recall(b, vectors[id(b)]) for b in batches}
        features = {id(b): [cascade.features(r, c) for r, c in zip(b, channels[id(b)])] for b in batches}
        stages = {
            "encode query": lambda b: cascade.encode_queries(b),
            "dense ANN (faiss)": lambda b: cascade.dense.search(vectors[id(b)], cascade.config.dense_depth),
            "bm25 scores": lambda b: [cascade.bm25.scores(r.query) for r in b],
            "recall + fusion (no encode)": lambda b: cascade.recall(b, vectors[id(b)]),
            "features": lambda b: [cascade.features(r, c) for r, c in zip(b, channels[id(b)])],
            "pre-rank": lambda b: [cascade.prerank(f) for f in features[id(b)]],
            "rank (top N)": lambda b: [cascade.rank(f[: cascade.config.prerank_keep]) for f in features[id(b)]],
            "cascade searcher, end to end": lambda b: searcher.search(b, 350),
        }
        table[f"batch {batch_size}"] = {name: _median_ms(work, batches, args.repeats) for name, work in stages.items()}
    print(f"cascade stage latency, ms per query (median of {args.repeats}), {len(requests)} Home Depot valid queries, "
          f"{len(cascade.items):,} items; machine: {machine()}")
    print(f"  {'stage':<30} {'batch 1':>9} {'batch 32':>9} {'ratio':>6}")
    for stage in table["batch 1"]:
        one, many = table["batch 1"][stage], table["batch 32"][stage]
        print(f"  {stage:<30} {one:>9.3f} {many:>9.3f} {one / many if many else np.nan:>6.2f}")
    print(json.dumps({"queries": len(requests), "items": len(cascade.items), "machine": machine(), "ms_per_query": table}))


if __name__ == "__main__":
    main()
