"""Which shipped text encoder should the dense channel start from? (quality and speed on a sample)

On Home Depot *valid* queries (choosing an encoder is tuning, so test stays unseen): a pool of
the sampled queries' judged items plus random catalog items; each encoder ranks the pool for
every query. Reports Recall@10 / NDCG@10 on the pool, item-encoding texts/s (median of N timed
batches) and, for reference, BM25 on the same pool. Usage:

    .venv/bin/python benchmarks/bench_encoders.py [--queries 300] [--pool 2000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

import numpy as np

from _machine import machine
from onesearch.evidence.bm25 import Bm25Index
from onesearch.evidence.items import ItemTable
from onesearch.evidence.tokenize import Tokenizer
from onesearch.catalog import registry
from onesearch.catalog.schema import examples_of
from onesearch.cli.data import data_root
from onesearch.embedding.encoder import SHIPPED, load_encoder
from onesearch.evaluation.metrics import score_ranking



def _quality(scores: np.ndarray, examples, pool_ids: list[str]) -> dict[str, float]:
    rows = [score_ranking([pool_ids[i] for i in np.argsort(-s, kind="stable")[:10]], e.targets, (10,)) for s, e in zip(scores, examples)]
    rows = [r for r in rows if r is not None]
    return {"recall@10": round(float(np.mean([r["recall@10"] for r in rows])), 4), "ndcg@10": round(float(np.mean([r["ndcg@10"] for r in rows])), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--pool", type=int, default=2000, help="random catalog items added to the judged ones")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--encoders", default=",".join(SHIPPED))
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    dataset = registry.load("homedepot", data_root(args.data))
    rng = random.Random(0)
    valid = [e for e in examples_of(dataset.examples) if e.split == "valid" and any(t.relevant for t in e.targets)]
    examples = rng.sample(valid, min(args.queries, len(valid)))
    tokenizer = Tokenizer("en")
    items = ItemTable.from_items(dataset.items, tokenizer)
    judged = {items.row_of[t.item_id] for e in examples for t in e.targets}
    pool = sorted(judged | set(rng.sample(range(len(items)), args.pool)))
    pool_ids = [items.ids[r] for r in pool]
    texts = [items.texts[r] for r in pool]
    queries = [e.query for e in examples]
    results: dict[str, dict[str, float]] = {}
    bm25 = Bm25Index.build(texts, tokenizer)
    results["bm25"] = _quality(np.stack([bm25.scores(q) for q in queries]), examples, pool_ids)
    for spec in args.encoders.split(","):
        encoder = load_encoder(spec)
        encoder.encode(texts[:8], "item")
        rates = []
        for repeat in range(args.repeats):
            batch = texts[repeat * 64 : (repeat + 1) * 64]
            started = time.perf_counter()
            encoder.encode(batch, "item")
            rates.append(len(batch) / (time.perf_counter() - started))
        vectors = encoder.encode(texts, "item")
        scores = encoder.encode(queries, "query") @ vectors.T
        results[spec] = {**_quality(scores, examples, pool_ids), "texts_per_s": round(statistics.median(rates), 1)}
    print(f"dense encoders on {len(examples)} Home Depot valid queries x a pool of {len(pool)} items; machine: {machine()}")
    for name, row in results.items():
        speed = f"{row['texts_per_s']:>8.1f} texts/s" if "texts_per_s" in row else ""
        print(f"  {name:<8} recall@10 {row['recall@10']:.4f}  ndcg@10 {row['ndcg@10']:.4f}  {speed}")
    print(json.dumps({"queries": len(examples), "pool": len(pool), "machine": machine(), "results": results}))


if __name__ == "__main__":
    main()
