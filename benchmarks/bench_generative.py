"""Generative searcher speed: training examples/s, and decoding latency against its arithmetic limit.

Decoding: trie-constrained beam search of a decoder of the given size over the real Home Depot
item codes (``runs/index/homedepot-kw-bal-opq``; synthetic codes of the same sizes when absent),
on random memories of 16 text tokens, at beam 10 / 50 / 350 and batch 1 / 16, with the KV cache
(one cross-attention cache per request shared by its beams) and without (the whole prefix re-run
every step). Timing excludes the text encoder (its cost is the cascade's query encoding too).
Each figure is the median over ``--repeats`` of the per-query milliseconds; p99 is over all
single queries at batch 1. The arithmetic limit is the model FLOPs per query (KV-cached) divided
by the measured fp32 matmul FLOP/s of this machine. Training: decoder forward + backward +
AdamW step on random memories, examples/s, median of repeats. Usage:

    .venv/bin/python benchmarks/bench_generative.py [--d-model 256 --layers 4] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from _machine import machine
from onesearch.decoding.beam import beam_search
from onesearch.decoding.trie import SidTrie
from onesearch.model.transformer import CodeDecoder, ModelConfig
from onesearch.semantic_ids.codebook import load_full_codes

MEMORY_TOKENS = 16


def _codes(index: Path) -> tuple[np.ndarray, tuple[int, ...]]:
    if (index / "manifest.json").is_file():
        _, codes, sizes = load_full_codes(index)
        return codes, sizes
    rng = np.random.default_rng(0)
    sizes = (256, 64, 32, 256, 256, 3)
    codes = np.unique(np.stack([rng.integers(0, s, 50_000) for s in sizes], axis=1), axis=0)
    return codes, sizes


def matmul_flops() -> float:
    """Measured fp32 matmul FLOP/s (median of 5, 1024 x 1024)."""
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(10):
            a @ b
        times.append((time.perf_counter() - started) / 10)
    return 2 * 1024**3 / statistics.median(times)


def query_flops(config: ModelConfig, beam: int) -> float:
    """FLOPs of one KV-cached query: cross keys/values once, then per step and beam the token's
    projections, attention over the prefix and memory, feed-forward and the position's head."""
    d, f, m = config.d_model, config.feedforward, MEMORY_TOKENS
    total = config.layers * 2 * (2 * m * d * d) + 2 * m * config.memory_dim * d
    for depth, size in enumerate(config.code_sizes):
        per_row = config.layers * 2 * (4 * d * d + 2 * d * d + 2 * d * f + (depth + 1) * 2 * d + m * 2 * d) + 2 * d * size
        total += beam * per_row
    return float(total)


def decode_ms(model: CodeDecoder, trie: SidTrie, beam: int, batch: int, kv_cache: bool, queries: int, repeats: int) -> tuple[float, list[float]]:
    """(median per-query ms over repeats, every single batch's per-query ms)."""
    generator = torch.Generator().manual_seed(0)
    memories = [torch.randn(batch, MEMORY_TOKENS, model.config.memory_dim, generator=generator) for _ in range(max(1, queries // batch))]
    padding = torch.zeros(batch, MEMORY_TOKENS, dtype=torch.bool)
    steps = model.steps(kv_cache)
    medians, singles = [], []
    with torch.no_grad():
        for _ in range(repeats):
            started = time.perf_counter()
            for memory in memories:
                one = time.perf_counter()
                projected, mask = model.memory(memory, padding)
                beam_search(steps, steps.start(projected, mask), batch, trie, beam)
                singles.append((time.perf_counter() - one) * 1000 / batch)
            medians.append((time.perf_counter() - started) * 1000 / (len(memories) * batch))
    return statistics.median(medians), singles


def training_rate(config: ModelConfig, batch: int, repeats: int) -> float:
    """Examples/s of decoder training steps on random memories (median of repeats of 10 steps)."""
    model = CodeDecoder(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    memory = torch.randn(batch, MEMORY_TOKENS, config.memory_dim)
    padding = torch.zeros(batch, MEMORY_TOKENS, dtype=torch.bool)
    codes = torch.stack([torch.randint(0, s, (batch,)) for s in config.code_sizes], dim=1)
    rates = []
    for _ in range(repeats + 1):
        started = time.perf_counter()
        for _ in range(10):
            loss = model.loss(memory, padding, codes)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        rates.append(10 * batch / (time.perf_counter() - started))
    return statistics.median(rates[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=Path("runs/index/homedepot-kw-bal-opq"))
    parser.add_argument("--d-model", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--queries", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    codes, sizes = _codes(args.index)
    config = ModelConfig(code_sizes=sizes, d_model=args.d_model, layers=args.layers, heads=max(1, args.d_model // 64), feedforward=4 * args.d_model, dropout=0.0)
    model = CodeDecoder(config).eval()
    trie = SidTrie(codes, sizes)
    peak = matmul_flops()
    rows = []
    for beam in (10, 50, 350):
        limit_ms = query_flops(config, beam) / peak * 1000
        for batch in (1, 16):
            queries = args.queries if beam < 350 else max(batch, args.queries // 4)
            cached, singles = decode_ms(model, trie, beam, batch, True, queries, args.repeats)
            plain, _ = decode_ms(model, trie, beam, batch, False, queries, args.repeats)
            rows.append({
                "beam": beam, "batch": batch, "kv_ms": round(cached, 2), "plain_ms": round(plain, 2), "speed-up": round(plain / cached, 2),
                "kv_p99_ms": round(float(np.percentile(singles, 99)), 2) if batch == 1 else None,
                "limit_ms": round(limit_ms, 2), "x_limit": round(cached / limit_ms, 2),
            })
            print(json.dumps(rows[-1]), flush=True)
    params = sum(p.numel() for p in model.parameters())
    print(f"\nmachine: {machine()}; torch threads {torch.get_num_threads()}; fp32 matmul {peak / 1e9:.1f} GFLOP/s")
    print(f"decoder d{args.d_model} x {args.layers} layers, {params / 1e6:.1f}M parameters, code sizes {sizes}, {len(codes):,} items\n")
    print("| beam | batch | KV cache ms/q | no cache ms/q | speed-up | KV p99 ms (batch 1) | arithmetic limit ms/q | x limit |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['beam']} | {r['batch']} | {r['kv_ms']} | {r['plain_ms']} | {r['speed-up']} | {r['kv_p99_ms'] or '-'} | {r['limit_ms']} | {r['x_limit']} |")
    print(f"\ntraining (forward + backward + AdamW, batch 128, {MEMORY_TOKENS} memory tokens): {training_rate(config, 128, args.repeats):.0f} examples/s")


if __name__ == "__main__":
    main()
