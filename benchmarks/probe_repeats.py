"""Where a search task's hits are: an eval report's lists split by whether the example asks for an
item the user touched before.

Reads ``REPORT/run.trec`` and ``REPORT/metrics.json`` of an ``onesearch eval`` run and splits its
examples into *repeat* (at least one relevant target is in the user's history) and *new* (none
is): per searcher and slice, the count, HR@10, MRR@10 and NDCG@10 (``evaluation.metrics``, as
``onesearch eval`` scores them), and the share of the top 10 that the user touched before. Not a timing: a diagnosis, so a next idea starts from where the misses are.
Usage:

    .venv/bin/python benchmarks/probe_repeats.py --task instacart --report runs/eval/ic-valid-h128-paired
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from onesearch.catalog import registry
from onesearch.catalog.context import ContextResolver
from onesearch.catalog.schema import examples_of
from onesearch.cli.data import data_root
from onesearch.evaluation.metrics import score_ranking
from onesearch.evaluation.report import read_trec

COLUMNS = ("hr@10", "mrr@10", "ndcg@10")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", required=True)
    parser.add_argument("--report", type=Path, required=True, help="an `onesearch eval --out` folder")
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    split = json.loads((args.report / "metrics.json").read_text())["run"]["split"]
    dataset = registry.load(args.task, data_root(args.data))
    resolver = ContextResolver(dataset)
    lists = read_trec(args.report / "run.trec")
    rows: dict[str, list[list[float]]] = {name: [] for name in lists}
    for example in examples_of(dataset.examples):
        targets = {t.item_id for t in example.targets if t.relevant}
        if example.split != split or not targets:
            continue
        touched = {event.item_id for event in resolver.request(example).user.history}
        for name, per_example in lists.items():
            ranked = per_example.get(example.example_id, [])
            scores = score_ranking(ranked, example.targets)
            rows[name].append([float(bool(targets & touched)), *(scores[c] for c in COLUMNS), sum(i in touched for i in ranked[:10]) / 10])
    print(f"{args.task} {split}: {args.report}")
    print("| searcher | slice | examples | share | HR@10 | MRR@10 | NDCG@10 | touched share of the top 10 |\n|---|---|---|---|---|---|---|---|")
    for name, values in rows.items():
        table = np.array(values, dtype=np.float64).reshape(-1, 2 + len(COLUMNS))
        for label, mask in (("repeat", table[:, 0] == 1), ("new", table[:, 0] == 0)):
            part = table[mask]
            means = " | ".join(f"{v:.4f}" for v in part[:, 1:-1].mean(axis=0))
            print(f"| {name} | {label} | {len(part)} | {len(part) / max(1, len(table)):.3f} | {means} | {part[:, -1].mean():.3f} |")


if __name__ == "__main__":
    main()
