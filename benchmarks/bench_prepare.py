"""How long does `onesearch data prepare NAME` take per data set? (wall time, median of N runs)

Runs the real CLI entry point in-process for every shared data set, writes to a temp dir,
prints a table and, as the last line, JSON. Usage:

    .venv/bin/python benchmarks/bench_prepare.py [--repeats 3] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from _machine import machine
from onesearch.catalog import registry, store
from onesearch.cli.data import data_root



def bench(name: str, root: Path, repeats: int) -> dict[str, float]:
    """Median / min wall seconds of load + validate + atomic write for one data set."""
    seconds = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            dataset = registry.load(name, root)
            store.save(dataset, Path(tmp) / name, config={}, inputs=registry.input_files(name, root))
            seconds.append(time.perf_counter() - started)
    return {"median_s": round(statistics.median(seconds), 2), "min_s": round(min(seconds), 2), "repeats": repeats}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    root = data_root(args.data)
    names = [n for n, spec in registry.DATASETS.items() if spec.files]
    results = {name: bench(name, root, args.repeats) for name in names}
    print(f"onesearch data prepare, wall time (median of {args.repeats}); machine: {machine()}")
    for name, row in results.items():
        print(f"  {name:<18} {row['median_s']:>7.2f} s  (min {row['min_s']:.2f})")
    print(json.dumps({"bench": "prepare", "machine": machine(), "results": results}))


if __name__ == "__main__":
    main()
