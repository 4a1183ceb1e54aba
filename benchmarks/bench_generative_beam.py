"""Beam size x quality x cost of the anchored generative searcher, beside the cascade, in one run.

Loads the task's default generative model (trained by `onesearch train --task T` or `onesearch
eval --searcher generative`) and its cascade from the cache, then scores the first ``--queries``
examples of a split at batch 1 with each beam size, with exhaustive scoring of every item's code
path and with the model's own served beam (picked on valid in training): NDCG@10, Recall@350, and
per-query wall and CPU milliseconds as medians over ``--repeats`` runs, the rows interleaved
within each repeat. The cascade is timed on the same queries in the same run, so the CPU ratio is
side by side (the median of each repeat's ratio); so is the cascade with the static query
encoder (``embedding.static``) in place of
its MiniLM query tower, so a saving is not credited to the encoder alone. ``--batches 1 8`` adds
the cascade and the default generative searcher at batch 8 (as the service batches concurrent
searches), each compared with the cascade at the same batch. A second table splits
each searcher's CPU per query by stage (query understanding, encoder, plan, dense top, scoring;
the cascade's recall, features, pre-rank and rank), timed in one more pass with each stage's
calls wrapped. Every search asks for ``--list`` items (350, eval's deepest cut); ``--list 10`` asks
for a result page, as the service's searches do, so the default generative row walks the model's
page beam (``decoding.planned.PAGE``) and the quality columns are NDCG@10 and HR@10. Usage:

    .venv/bin/python benchmarks/bench_generative_beam.py --task homedepot [--model DIR] [--split valid] [--queries 200] [--beams 10 50 100 200 400] [--batches 1 8] [--encoder dual] [--list 350]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from _machine import machine
from onesearch.cascade.build import BuildSettings, build_cascade, cascade_directory
from onesearch.cascade.searchers import make_searcher
from onesearch.catalog import registry
from onesearch.catalog.context import ContextResolver
from onesearch.catalog.schema import examples_of
from onesearch.cli.data import data_root
from onesearch.cli.train import ensure_model, ensure_static_encoder
from onesearch.decoding.planned import PAGE, PlannedSearcher
from onesearch.embedding.encoder import load_encoder
from onesearch.evaluation.harness import run_searcher
from onesearch.evaluation.metrics import score_ranking
from onesearch.evidence.understanding import QueryUnderstanding, Understood
from onesearch.generative.folder import load_planned
from onesearch.memory import WARM_UP, settle_heap
from onesearch.types import Searcher


def _measure(searchers: dict[str, tuple[Searcher, int]], examples: list, requests: list, repeats: int, k: int) -> dict[str, dict[str, float]]:
    """Quality and per-query cost of every ``searchers`` row (name -> (searcher, batch)): the
    repeats interleave the rows (repeat 1 of every row, then repeat 2, ...), so a drift of the
    machine's speed during the run moves every row alike and the ratios stay side by side."""
    runs: dict[str, list] = {name: [] for name in searchers}
    for _ in range(repeats):
        for name, (searcher, batch) in searchers.items():
            runs[name].append(run_searcher(searcher, requests, k, batch))
    return {name: _row(examples, row, searchers[name][1], k) for name, row in runs.items()}


def _row(examples: list, runs: list, batch: int, k: int) -> dict[str, float]:
    """NDCG@10 and the list's second quality column (``_deep``), wall and CPU cost of one row."""
    scored = [m for e, hits in zip(examples, runs[0].hits) if (m := score_ranking([h.item_id for h in hits], e.targets, (10, k))) is not None]
    return {
        "ndcg@10": round(float(np.mean([m["ndcg@10"] for m in scored])), 4),
        _deep(k): round(float(np.mean([m[_deep(k)] for m in scored])), 4),
        "p50_ms": round(statistics.median(float(np.median(r.wall_ms)) for r in runs), 2),
        "cpu_ms": round(statistics.median(float(np.mean(r.cpu_ms)) for r in runs), 2),
        "cpu_ms_runs": [round(float(np.mean(r.cpu_ms)), 3) for r in runs],
        "batch": batch,
    }


class StageClock:
    """CPU seconds spent in named stages: wraps an object's callables so each call adds its
    process CPU time to its stage (a stage's time includes the stages it calls)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)

    def wrap(self, owner: Any, attribute: str, stage: str) -> None:
        inner: Callable[..., Any] = getattr(owner, attribute)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return inner(*args, **kwargs)
            finally:
                self.spent[stage] += time.process_time() - start

        setattr(owner, attribute, timed)

    def per_query(self, searcher: Searcher, requests: list, k: int, total: str = "total") -> dict[str, float]:
        """Milliseconds of CPU per query in each stage over one pass of ``requests`` at batch 1, lists of ``k``."""
        self.spent.clear()
        start = time.process_time()
        run_searcher(searcher, requests, k)
        self.spent[total] = time.process_time() - start
        return {stage: round(seconds * 1000.0 / len(requests), 2) for stage, seconds in self.spent.items()}


CASCADE_STAGES = {"encode_queries": "encoder", "recall": "recall (BM25, dense, history)", "features": "features", "prerank": "pre-rank", "rank": "rank"}


def generative_stages(searcher: PlannedSearcher) -> dict[str, str]:
    """The generative searcher's stage names by the attribute each is called through."""
    scoring = "_exhaustive" if searcher.exhaustive else "_beams"
    return {"query_vectors": "encoder", "users": "user vector", "planner": "plan (BM25, n-grams, behaviour)", "dense_top": "dense top",
            scoring: f"scoring ({scoring.strip('_')})"}


def _deep(k: int) -> str:
    """The quality column beside NDCG@10 of lists of ``k``: HR@10 for a page, else Recall@k."""
    return "hr@10" if k <= PAGE else f"recall@{k}"


def _heading(metric: str) -> str:
    """``hr@10`` -> ``HR@10``, ``recall@350`` -> ``Recall@350``."""
    name, cut = metric.split("@")
    return f"{'HR' if name == 'hr' else name.capitalize()}@{cut}"


def stage_costs(searcher: Searcher, owner: Any, stages: dict[str, str], understand: QueryUnderstanding, requests: list, k: int) -> dict[str, float]:
    """Per-stage CPU ms per query of ``searcher`` behind the shared understanding step, with the
    ``stages`` of ``owner`` (attribute -> stage name) wrapped."""
    clock = StageClock()
    clock.wrap(understand, "requests", "understanding")
    for attribute, stage in stages.items():
        clock.wrap(owner, attribute, stage)
    return clock.per_query(Understood(searcher, understand), requests, k)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="homedepot")
    parser.add_argument("--split", default="valid")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--beams", type=int, nargs="+", default=[10, 50, 100, 200, 400])
    parser.add_argument("--batches", type=int, nargs="+", default=[1], help="batch sizes of the cascade and default-generative rows (the service batches concurrent searches)")
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: the task's default model, trained if missing)")
    parser.add_argument("--encoder", default="dual", help="the cascade's dense encoder (as `onesearch eval --encoder`; amazon-industrial's runs use minilm)")
    parser.add_argument("--cache", type=Path, default=Path("runs/cache"))
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--list", type=int, default=350, help="items every search asks for (10: a result page, the default model's page beam)")
    args = parser.parse_args()
    root = data_root(args.data)
    dataset = registry.load(args.task, root)
    fingerprint = dataset.training_fingerprint()
    examples = [e for e in examples_of(dataset.examples) if e.split == args.split][: args.queries]
    requests = ContextResolver(dataset).requests(examples)
    model = args.model or ensure_model(dataset, args.task, fingerprint, args.cache, [], args.encoder)
    cascade = build_cascade(dataset, cascade_directory(args.cache, args.task, fingerprint), BuildSettings(encoder=args.encoder))
    understand = QueryUnderstanding.for_items(dataset.items)  # the shared step in front of every searcher, as in eval

    def understood(searcher: Searcher) -> Searcher:
        return Understood(searcher, understand)

    static = load_encoder(str(ensure_static_encoder(dataset, cascade_directory(args.cache, args.task, fingerprint), None if args.encoder == "dual" else args.encoder)))
    cheap = replace(cascade, encoder=static)
    default = load_planned(model, dataset.items)
    searchers = {"cascade": (make_searcher("cascade", cascade), 1), "cascade, static query encoder": (make_searcher("cascade", cheap), 1)}
    searchers.update({f"generative, beam {beam}": (load_planned(model, dataset.items, beam, exhaustive=False), 1) for beam in args.beams})
    searchers["generative, exhaustive"] = (load_planned(model, dataset.items, exhaustive=True), 1)
    searchers[f"generative, default (beam {default.beam_for(args.list)})"] = (default, 1)
    for batch in (b for b in args.batches if b > 1):
        searchers[f"cascade, batch {batch}"] = (make_searcher("cascade", cascade), batch)
        searchers[f"generative, default, batch {batch}"] = (default, batch)
    timed = {name: (understood(searcher), batch) for name, (searcher, batch) in searchers.items()}
    settle_heap(lambda: [searcher.search(requests[:WARM_UP], args.list) for searcher, _ in timed.values()])  # as eval does: collections during the timed runs walk only new objects
    rows = _measure(timed, examples, requests, args.repeats, args.list)
    stages = {}
    for name, owner in (("cascade", replace(cascade)), ("cascade, static query encoder", replace(cheap))):
        stages[name] = stage_costs(make_searcher("cascade", owner), owner, CASCADE_STAGES, understand, requests, args.list)
    generative = load_planned(model, dataset.items)
    stages["generative, default"] = stage_costs(generative, generative, generative_stages(generative), understand, requests, args.list)
    print(f"{args.task} {args.split}, first {len(examples)} queries, lists of {args.list}, batch 1 unless named, medians of {args.repeats} runs; model {model}; {machine()}")
    print(f"| searcher | NDCG@10 | {_heading(_deep(args.list))} | p50 ms | CPU ms/q | CPU vs cascade (median of the repeats' ratios) |")
    print("|---|---|---|---|---|---|")
    for name, row in rows.items():
        base = rows["cascade" if row["batch"] == 1 else f"cascade, batch {row['batch']}"]["cpu_ms_runs"]  # the cascade at the same batch
        ratio = statistics.median(mine / theirs for mine, theirs in zip(row["cpu_ms_runs"], base))  # repeat by repeat
        print(f"| {name} | {row['ndcg@10']:.4f} | {row[_deep(args.list)]:.4f} | {row['p50_ms']:.1f} | {row['cpu_ms']:.1f} | {ratio:.2f} |")
    print("\nCPU ms per query by stage (one pass, calls wrapped; a stage includes the stages it calls):")
    for name, row in stages.items():
        print(f"- {name}: " + ", ".join(f"{stage} {ms:.2f}" for stage, ms in row.items()))
    print(json.dumps({"task": args.task, "split": args.split, "list": args.list, "queries": len(examples), "model": str(model), "machine": machine(), "rows": rows, "stages": stages}))


if __name__ == "__main__":
    main()
