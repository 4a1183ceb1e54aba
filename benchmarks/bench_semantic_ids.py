"""What does a semantic-id codebook cost as the catalog grows, and how fast is a new code?

Fits the default codebook (256-64-32 residual k-means, balanced last level, 2 x 256 OPQ) on the
Home Depot item vectors (the cascade's fine-tuned encoder, from the eval cache) and on synthetic
catalogs of 200k and 1M vectors (real vectors resampled plus Gaussian noise, re-normalized). Each
fit runs in its own process, so its peak RSS is its own. Then times coding one new item from its
vector, and from its text (encoder + keyword match + fusion + code), median of many. Usage:

    .venv/bin/python benchmarks/bench_semantic_ids.py [--sizes 200000,1000000] [--repeats 1000]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from _machine import machine
from onesearch.cascade.build import BuildSettings, cascade_directory, encode_catalog
from onesearch.catalog import registry
from onesearch.cli.data import data_root
from onesearch.embedding.keywords import KeywordMatcher, fuse, mine_keywords
from onesearch.semantic_ids.codebook import CodebookConfig, SemanticIdCodebook

_NOISE = 0.02



def _catalog(cache: Path, data: Path | None):  # type: ignore[no-untyped-def]
    root = data_root(data)
    dataset = registry.load("homedepot", root)
    return dataset, encode_catalog(dataset, cascade_directory(cache, "homedepot", dataset.training_fingerprint()), BuildSettings(), log=lambda m: None)


def _vectors(real: np.ndarray, size: int) -> np.ndarray:
    if size <= len(real):
        return real[:size]
    rng = np.random.default_rng(0)
    x = real[rng.integers(0, len(real), size)] + rng.normal(0, _NOISE, (size, real.shape[1])).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _fit_one(size: int, cache: Path, data: Path | None) -> None:
    """Child process: fit on ``size`` vectors and print seconds + peak RSS as JSON."""
    _, catalog = _catalog(cache, data)
    x = _vectors(catalog.vectors, size)
    started = time.perf_counter()
    SemanticIdCodebook.fit(x, [str(i) for i in range(len(x))], CodebookConfig())
    seconds = time.perf_counter() - started
    print(json.dumps({"size": size, "fit_s": round(seconds, 1), "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))


def _median_ms(work, inputs) -> float:  # type: ignore[no-untyped-def]
    times = []
    for value in inputs:
        started = time.perf_counter()
        work(value)
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200000,1000000", help="synthetic catalog sizes besides the real one")
    parser.add_argument("--repeats", type=int, default=1000)
    parser.add_argument("--cache", type=Path, default=Path("runs/cache"))
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        _fit_one(args.one, args.cache, args.data)
        return
    dataset, catalog = _catalog(args.cache, args.data)
    sizes = [len(catalog.vectors), *(int(s) for s in args.sizes.split(",") if s)]
    rows = []
    for size in sizes:
        command = [sys.executable, __file__, "--one", str(size), "--cache", str(args.cache), *(["--data", str(args.data)] if args.data else [])]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    codebook = SemanticIdCodebook.fit(catalog.vectors, catalog.items.ids, CodebookConfig())
    rng = np.random.default_rng(1)
    picks = rng.integers(0, len(catalog.vectors), args.repeats)
    vector_ms = _median_ms(lambda row: codebook.encode(catalog.vectors[row][None]), picks)
    pool = mine_keywords(dataset.items["title"].to_pylist())
    matcher = KeywordMatcher(pool)
    keyword_vectors = {k.text: v for k, v in zip(pool, catalog.encoder.encode([k.text for k in pool], "item"))}

    def text_to_code(text: str) -> None:
        vector = catalog.encoder.encode([text], "query")[0]
        found = [keyword_vectors[k.text] for k in matcher.match(text)]
        codebook.encode(fuse(vector, np.array(found)) if found else vector)

    texts = [catalog.items.texts[row] for row in picks[: min(200, args.repeats)]]
    text_ms = _median_ms(text_to_code, texts)
    print(f"semantic-id codebook (256-64-32 balanced + OPQ 2x256); machine: {machine()}")
    for row in rows:
        print(f"  fit {row['size']:>9,} vectors: {row['fit_s']:>7.1f} s, peak RSS {row['peak_rss_mb']:>6,} MB")
    print(f"  one new item, vector -> code: {vector_ms:.3f} ms (median of {len(picks)})")
    print(f"  one new text, text -> code (MiniLM + keywords + code): {text_ms:.3f} ms (median of {len(texts)})")
    print(json.dumps({"machine": machine(), "fits": rows, "vector_to_code_ms": vector_ms, "text_to_code_ms": text_ms}))


if __name__ == "__main__":
    main()
