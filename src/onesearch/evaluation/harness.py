"""Run searchers over a split and score them side by side.

Contract: ``run_searcher`` calls ``Searcher.search`` in batches and records, per request, the
hits plus wall-clock and CPU milliseconds (a batch's time divided evenly over its requests, so
``batch_size=1`` gives true per-query latency). ``evaluate`` scores runs of several searchers on
the same examples: overall means, means per slice, coverage, latency percentiles and paired
comparisons of every searcher against the first. It never builds searchers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from onesearch.evaluation.compare import paired_comparison
from onesearch.evaluation.metrics import CUTOFFS, metric_names, score_ranking
from onesearch.evaluation.slices import SLICES, Slicer
from onesearch.types import Example, Hit, SearchRequest, Searcher

__all__ = ["COMPARED", "SearcherRun", "evaluate", "run_searcher"]

COMPARED = ("ndcg@10", "hr@10", "recall@10", "mrr@10", "map@5")


@dataclass
class SearcherRun:
    """One searcher's output on a list of requests, with per-request timings."""

    name: str
    hits: list[list[Hit]]
    wall_ms: np.ndarray
    cpu_ms: np.ndarray
    batch_size: int


def run_searcher(
    searcher: Searcher,
    requests: Sequence[SearchRequest],
    k: int,
    batch_size: int = 1,
    advance: Callable[[int], None] | None = None,
) -> SearcherRun:
    """Search every request in batches of ``batch_size``; ``advance(n)`` reports progress."""
    hits: list[list[Hit]] = []
    wall = np.zeros(len(requests))
    cpu = np.zeros(len(requests))
    for start in range(0, len(requests), batch_size):
        batch = requests[start : start + batch_size]
        wall0, cpu0 = time.perf_counter(), time.process_time()
        result = searcher.search(batch, k)
        wall[start : start + len(batch)] = (time.perf_counter() - wall0) * 1000.0 / len(batch)
        cpu[start : start + len(batch)] = (time.process_time() - cpu0) * 1000.0 / len(batch)
        if len(result) != len(batch):
            raise RuntimeError(f"searcher {searcher.name} returned {len(result)} lists for {len(batch)} requests")
        hits.extend(list(hits_)[:k] for hits_ in result)
        if advance is not None:
            advance(len(batch))
    return SearcherRun(searcher.name, hits, wall, cpu, batch_size)


def evaluate(runs: Sequence[SearcherRun], examples: Sequence[Example], slicer: Slicer, catalog_size: int) -> dict[str, Any]:
    """Scores of every run on ``examples`` (same order as the requests each run answered)."""
    names = metric_names(CUTOFFS)
    labels = [slicer.labels(example) for example in examples]
    scored = [i for i, example in enumerate(examples) if any(t.relevant for t in example.targets)]
    result: dict[str, Any] = {"examples": len(examples), "scored": len(scored), "cutoffs": list(CUTOFFS), "searchers": {}}
    matrices: dict[str, np.ndarray] = {}
    for run in runs:
        matrix = np.array([_scores(run.hits[i], examples[i], names) for i in scored]).reshape(len(scored), len(names))
        matrices[run.name] = matrix
        result["searchers"][run.name] = {
            "metrics": dict(zip(names, matrix.mean(axis=0).tolist())) if scored else {},
            "slices": _slice_means(matrix, [labels[i] for i in scored], names),
            "coverage": _coverage(run, catalog_size),
            "latency": _latency(run),
        }
    result["comparisons"] = _comparisons(runs, matrices, names)
    return result


def _scores(hits: list[Hit], example: Example, names: list[str]) -> list[float]:
    scores = score_ranking([h.item_id for h in hits], example.targets)
    assert scores is not None, "only examples with a relevant target are scored"
    return [scores[name] for name in names]


def _slice_means(matrix: np.ndarray, labels: list[dict[str, str]], names: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for axis, values in SLICES.items():
        for value in values:
            rows = [i for i, label in enumerate(labels) if label.get(axis) == value]
            if rows:
                out[f"{axis}={value}"] = {"n": len(rows), **dict(zip(names, matrix[rows].mean(axis=0).tolist()))}
    return out


def _coverage(run: SearcherRun, catalog_size: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for k in (10, max(CUTOFFS)):
        distinct = len({h.item_id for hits in run.hits for h in hits[:k]})
        out[f"items@{k}"] = distinct
        out[f"catalog_share@{k}"] = distinct / catalog_size if catalog_size else 0.0
    return out


def _latency(run: SearcherRun) -> dict[str, float]:
    p50, p95, p99 = np.percentile(run.wall_ms, [50, 95, 99]) if len(run.wall_ms) else (0.0, 0.0, 0.0)
    return {
        "batch_size": run.batch_size,
        "p50_ms": float(p50),
        "p95_ms": float(p95),
        "p99_ms": float(p99),
        "mean_ms": float(run.wall_ms.mean()) if len(run.wall_ms) else 0.0,
        "cpu_ms_per_query": float(run.cpu_ms.mean()) if len(run.cpu_ms) else 0.0,
    }


def _comparisons(runs: Sequence[SearcherRun], matrices: dict[str, np.ndarray], names: list[str]) -> list[dict[str, Any]]:
    if len(runs) < 2 or not len(matrices[runs[0].name]):
        return []
    baseline = runs[0].name
    out = []
    for run in runs[1:]:
        for metric in COMPARED:
            column = names.index(metric)
            stats = paired_comparison(matrices[baseline][:, column], matrices[run.name][:, column])
            out.append({"baseline": baseline, "searcher": run.name, "metric": metric, **stats})
    return out
