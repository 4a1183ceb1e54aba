"""Beam size x quality x latency of the anchored generative searcher, beside the cascade, in one run.

Loads the task's default generative model (trained by `onesearch train --task T` or `onesearch
eval --searcher generative`) and its cascade from the cache, then scores the first ``--queries``
examples of a split at batch 1 with each beam size and with exhaustive scoring of every item's
code path: NDCG@10, Recall@350, and per-query wall and CPU milliseconds as medians over
``--repeats`` runs. The cascade is timed on the same queries in the same run, so the CPU ratio is
side by side. Usage:

    .venv/bin/python benchmarks/bench_generative_beam.py --task homedepot [--model DIR] [--split valid] [--queries 200] [--beams 10 50 100 200 400] [--encoder dual]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np

from _machine import machine
from onesearch.cascade.build import BuildSettings, build_cascade, cascade_directory
from onesearch.cascade.searchers import make_searcher
from onesearch.catalog import registry
from onesearch.catalog.context import ContextResolver
from onesearch.catalog.schema import examples_of
from onesearch.cli.data import data_root
from onesearch.cli.train import ensure_model
from onesearch.evaluation.harness import run_searcher
from onesearch.evaluation.metrics import score_ranking
from onesearch.evidence.understanding import QueryUnderstanding, Understood
from onesearch.generative.folder import load_planned
from onesearch.types import Searcher


def _measure(searcher: Searcher, examples: list, requests: list, repeats: int) -> dict[str, float]:
    runs = [run_searcher(searcher, requests, 350) for _ in range(repeats)]
    scored = [m for e, hits in zip(examples, runs[0].hits) if (m := score_ranking([h.item_id for h in hits], e.targets, (10, 350))) is not None]
    return {
        "ndcg@10": round(float(np.mean([m["ndcg@10"] for m in scored])), 4),
        "recall@350": round(float(np.mean([m["recall@350"] for m in scored])), 4),
        "p50_ms": round(statistics.median(float(np.median(r.wall_ms)) for r in runs), 2),
        "cpu_ms": round(statistics.median(float(np.mean(r.cpu_ms)) for r in runs), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="homedepot")
    parser.add_argument("--split", default="valid")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--beams", type=int, nargs="+", default=[10, 50, 100, 200, 400])
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: the task's default model, trained if missing)")
    parser.add_argument("--encoder", default="dual", help="the cascade's dense encoder (as `onesearch eval --encoder`; amazon-industrial's runs use minilm)")
    parser.add_argument("--cache", type=Path, default=Path("runs/cache"))
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    root = data_root(args.data)
    dataset = registry.load(args.task, root)
    fingerprint = registry.fingerprint(args.task, root)
    examples = [e for e in examples_of(dataset.examples) if e.split == args.split][: args.queries]
    requests = ContextResolver(dataset).requests(examples)
    model = args.model or ensure_model(dataset, args.task, fingerprint, args.cache, [], args.encoder)
    cascade = build_cascade(dataset, cascade_directory(args.cache, args.task, fingerprint), BuildSettings(encoder=args.encoder))
    understand = QueryUnderstanding.for_items(dataset.items)  # the shared step in front of every searcher, as in eval

    def measure(searcher: Searcher) -> dict[str, float]:
        return _measure(Understood(searcher, understand), examples, requests, args.repeats)

    rows = {"cascade": measure(make_searcher("cascade", cascade))}
    for beam in args.beams:
        rows[f"beam {beam}"] = measure(load_planned(model, dataset.items, beam, exhaustive=False))
    rows["exhaustive"] = measure(load_planned(model, dataset.items, exhaustive=True))
    print(f"{args.task} {args.split}, first {len(examples)} queries, batch 1, medians of {args.repeats} runs; {machine()}")
    print("| searcher | NDCG@10 | Recall@350 | p50 ms | CPU ms/q | CPU vs cascade |")
    print("|---|---|---|---|---|---|")
    for name, row in rows.items():
        ratio = row["cpu_ms"] / rows["cascade"]["cpu_ms"]
        print(f"| {name} | {row['ndcg@10']:.4f} | {row['recall@350']:.4f} | {row['p50_ms']:.1f} | {row['cpu_ms']:.1f} | {ratio:.2f} |")
    print(json.dumps({"task": args.task, "split": args.split, "queries": len(examples), "machine": machine(), "rows": rows}))


if __name__ == "__main__":
    main()
