"""Whether one-off pauses, not per-query work, move a generative row's mean CPU: full garbage
collections during a timed run.

Loads a model folder twice, as ``bench_generative_beam.py`` does: the default searcher and the
same model at ``--beam``. Runs the first ``--queries`` valid requests through them in the order
default, beam, beam, default. Per run it prints the mean and median CPU ms per query, the
slowest request, and how many generation-2 collections of Python's cyclic garbage collector fell
inside it. A mean well above the median, with one slow request and a collection in the same run,
is a collector pause: it traverses every Python object the loaded models hold. ``--settle``
settles the heap after loading and again after 8 warm-up searches (``memory.settle_heap``, as
eval and the beam benchmark do), which should leave runs without such a request. Not a timing of
the model: a diagnosis.
Usage:

    .venv/bin/python benchmarks/probe_gc_pauses.py --task instacart --model runs/cache/instacart-2ebe522aa033/generative-dual-8fa5e9249c [--settle]
"""

from __future__ import annotations

import argparse
import gc
from pathlib import Path

import numpy as np

from onesearch.catalog import registry
from onesearch.catalog.context import ContextResolver
from onesearch.catalog.schema import examples_of
from onesearch.cli.data import data_root
from onesearch.evaluation.harness import run_searcher
from onesearch.generative.folder import load_planned
from onesearch.memory import WARM_UP, settle_heap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", required=True)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--beam", type=int, default=100)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--settle", action="store_true", help="settle the heap after loading and after 8 warm-up searches, as eval and the beam benchmark do")
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    dataset = registry.load(args.task, data_root(args.data))
    examples = [e for e in examples_of(dataset.examples) if e.split == "valid"][: args.queries]
    requests = ContextResolver(dataset).requests(examples)
    default, beamed = load_planned(args.model, dataset.items), load_planned(args.model, dataset.items, args.beam, exhaustive=False)
    if args.settle:
        settle_heap(lambda: [searcher.search(requests[:WARM_UP], 350) for searcher in (default, beamed)])
    collections = [0]
    gc.callbacks.append(lambda phase, info: collections.__setitem__(0, collections[0] + (phase == "stop" and info["generation"] == 2)))
    print("| run | mean CPU ms/q | median | slowest request ms | full collections |\n|---|---|---|---|---|")
    for name, searcher in (("default", default), (f"beam {args.beam}", beamed), (f"beam {args.beam}", beamed), ("default", default)):
        collections[0] = 0
        run = run_searcher(searcher, requests, 350)
        print(f"| {name} | {np.mean(run.cpu_ms):.2f} | {np.median(run.cpu_ms):.2f} | {np.max(run.cpu_ms):.1f} | {collections[0]} |")


if __name__ == "__main__":
    main()
