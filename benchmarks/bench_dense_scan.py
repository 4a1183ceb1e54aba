"""The dense plan's scan: FAISS scans of the item vectors against the exact top rows, in one run.

Loads a task's default generative model (trained if missing), encodes the first ``--queries``
queries of a split with the model's own query encoder, and times each scan's ``search`` for the
top ``--depth`` rows at each ``--batches`` size: median process CPU ms per query over
``--repeats`` passes, and the share of the exact top rows each finds (``IndexFlatIP`` is the
truth). The rows are the scans ``DenseTop`` has used: today's (``decoding.dense``), the 8-bit one
it replaced (``PCA,SQ8`` with refine 2), and an exact float scan. Usage:

    .venv/bin/python benchmarks/bench_dense_scan.py --task homedepot [--queries 400] [--batches 1 8] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import faiss
import numpy as np

from _machine import machine
from onesearch.catalog import registry
from onesearch.catalog.schema import examples_of
from onesearch.cli.data import data_root
from onesearch.cli.train import ensure_model
from onesearch.decoding.dense import DenseTop, _scan_factory
from onesearch.generative.folder import load_planned


def _previous(vectors: np.ndarray) -> faiss.Index:
    """The scan ``DenseTop`` used before the 4-bit fast scan: PCA, SQ8, exact refine of 2 x k."""
    today = _scan_factory(vectors)
    spec = today.split(",")[0] + ",SQ8" if today.startswith("PCA") else "SQ8"
    scan = faiss.index_factory(vectors.shape[1], spec, faiss.METRIC_INNER_PRODUCT)
    index = faiss.IndexRefineFlat(scan)
    index.k_factor = 2.0
    index.train(vectors)
    index.add(vectors)
    return index


def _cost(index: faiss.Index, queries: np.ndarray, depth: int, batch: int, repeats: int) -> float:
    """Median CPU ms per query of searching ``queries`` in batches of ``batch``."""
    passes = []
    for _ in range(repeats):
        start = time.process_time()
        for at in range(0, len(queries), batch):
            index.search(queries[at : at + batch], depth)
        passes.append((time.process_time() - start) * 1000.0 / len(queries))
    return statistics.median(passes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="homedepot")
    parser.add_argument("--split", default="valid")
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--depth", type=int, default=300, help="rows asked for (the recipe's dense_plan)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=Path("runs/cache"))
    args = parser.parse_args()
    dataset = registry.load(args.task, data_root(None))
    model = ensure_model(dataset, args.task, dataset.training_fingerprint(), args.cache, [], "dual")
    searcher = load_planned(model, dataset.items)
    vectors = np.ascontiguousarray(searcher.model.item_vectors().numpy())
    texts = [e.query or "" for e in examples_of(dataset.examples) if e.split == args.split][: args.queries]
    queries = np.ascontiguousarray(searcher.queries(texts, None).numpy(), dtype=np.float32)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    truth = exact.search(queries, args.depth)[1]
    scans = {f"today's ({_scan_factory(vectors)}, refine 4)": DenseTop(vectors)._index, "previous (PCA,SQ8, refine 2)": _previous(vectors), "exact (float)": exact}
    rows = {}
    for name, index in scans.items():
        found = index.search(queries, args.depth)[1]
        share = float(np.mean([len(set(f) & set(t)) / args.depth for f, t in zip(found.tolist(), truth.tolist())]))
        rows[name] = {"found": round(share, 4), **{f"cpu_ms_batch{b}": round(_cost(index, queries, args.depth, b, args.repeats), 3) for b in args.batches}}
    print(f"{args.task} {args.split}, {len(queries)} queries, {len(vectors):,} rows, top {args.depth}, medians of {args.repeats}; {machine()}")
    print("| scan | share of the exact top found | " + " | ".join(f"CPU ms/query, batch {b}" for b in args.batches) + " |")
    print("|---|---|" + "---|" * len(args.batches))
    for name, row in rows.items():
        print(f"| {name} | {row['found']:.4f} | " + " | ".join(f"{row[f'cpu_ms_batch{b}']:.2f}" for b in args.batches) + " |")
    print(json.dumps({"task": args.task, "queries": len(queries), "rows": len(vectors), "depth": args.depth, "machine": machine(), "scans": rows}))


if __name__ == "__main__":
    main()
