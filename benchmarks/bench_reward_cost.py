"""What does the reward model's judgement cost per query, and the generative model that learns it?

Times, in one run on the same valid queries at batch 1, the CPU milliseconds per query of the
``cascade``, ``cascade+reward`` (the cascade's pre-rank top re-ranked by the reward model: a
cross-encoder pass per candidate) and the ``generative`` searcher of a model folder (default: the
task's default model), each the median over repeats of (process CPU time / queries), and prints
the ratio generative / cascade+reward (the issue's bar: at most 0.3). Usage (after `onesearch eval`
built the task's cache and reward model, and `onesearch train` the model):

    .venv/bin/python benchmarks/bench_reward_cost.py [--task homedepot] [--model DIR] [--queries 64] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from _machine import machine
from onesearch.cascade.build import BuildSettings, build_cascade, cascade_directory
from onesearch.cascade.searchers import make_searcher
from onesearch.catalog import registry
from onesearch.catalog.context import ContextResolver
from onesearch.catalog.schema import examples_of
from onesearch.cli.data import data_root
from onesearch.cli.train import default_model, task_recipe
from onesearch.generative.folder import load_planned
from onesearch.reward.build import build_reward
from onesearch.reward.searcher import RewardSearcher
from onesearch.types import Searcher


def _cpu_ms(searcher: Searcher, requests: list, repeats: int) -> float:
    """Median over repeats of CPU ms per query, one request per call."""
    searcher.search(requests[:2], 350)  # warm caches and lazy loads
    totals = []
    for _ in range(repeats):
        started = time.process_time()
        for request in requests:
            searcher.search([request], 350)
        totals.append((time.process_time() - started) * 1000 / len(requests))
    return round(statistics.median(totals), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="homedepot")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--queries", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path("runs/cache"))
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    dataset = registry.load(args.task, data_root(args.data))
    directory = cascade_directory(args.cache, args.task, dataset.training_fingerprint())
    cascade = build_cascade(dataset, directory, BuildSettings())
    model = args.model or default_model(args.cache, args.task, dataset.training_fingerprint(), task_recipe([], dataset))
    examples = [e for e in examples_of(dataset.examples) if e.split == "valid"][: args.queries]
    requests = ContextResolver(dataset).requests(examples)
    searchers = {"cascade": make_searcher("cascade", cascade), "cascade+reward": RewardSearcher(build_reward(dataset, cascade, directory)),
                 "generative": load_planned(model, dataset.items)}
    cpu = {name: _cpu_ms(searcher, requests, args.repeats) for name, searcher in searchers.items()}
    ratio = round(cpu["generative"] / cpu["cascade+reward"], 3)
    print(f"CPU ms per query at batch 1 (median of {args.repeats}), {len(requests)} {args.task} valid queries; machine: {machine()}")
    for name, ms in cpu.items():
        print(f"  {name:<16} {ms:>9.2f}")
    print(f"  generative / cascade+reward: {ratio}")
    print(json.dumps({"task": args.task, "model": str(model), "queries": len(requests), "machine": machine(), "cpu_ms_per_query": cpu, "ratio": ratio}))


if __name__ == "__main__":
    main()
