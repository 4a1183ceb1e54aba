"""Scale-out engines against the single-process path, in one run: Ray Data index build, torch DDP
training, serving replicas.

    .venv/bin/python benchmarks/bench_scale.py [--items 1000000] [--repeats 3] [--out runs/bench/scale.json]

1. **Index (Ray Data).** A catalog of ``--items`` pre-computed vectors: the Home Depot items'
   fine-tuned dual-encoder vectors, tiled and jittered with Gaussian noise (sd 0.02) and
   re-normalised (embedding 1M texts here would take an hour). Coding throughput (items/s) of
   ``Quantizers.assign`` in this process, then of ``scale.ray_index.build_on_ray`` (read shards,
   code in an actor pool, write code shards, merge) with 1 and 2 actors; the quantizers are
   fitted once on a 200k sample beforehand and that fit is timed apart. Text encoding throughput
   (items/s) of ``--texts`` catalog texts with the shipped MiniLM encoder: one process, then a
   Ray actor pool of 1 and 2 (cache empty each time).
2. **Training (DDP).** Examples/s of the anchored model's listwise step at Home Depot's shape
   (384-d, the trained model's trie) on synthetic batches (global batch 64), plain in this
   process, then under DDP (gloo) with 1 and 2 spawned processes.
3. **Serving (replicas).** Requests/s of ``onesearch serve --workers N`` (N = 1, 2) over the Home
   Depot bundle, 8 closed-loop clients, the generative searcher.

Each figure is the median of ``--repeats`` runs. On 2 cores, 2 workers measure contention, not
scaling: the report gives per-worker throughput and each engine's overhead against the
single-process path (the ratio single-process / engine with one worker).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import torch

from _machine import machine
from bench_service_load import _load, _queries, _start
from onesearch.deploy.bundle import Bundle
from onesearch.model.anchored import AnchoredConfig, AnchoredDecoder
from onesearch.semantic_ids.codebook import CodebookConfig, Quantizers, sample_rows
from onesearch.training.distributed import World, launch

HD_VECTORS = Path("runs/cache/homedepot-0286b9ceac17/embeddings")
HD_MODEL = Path("runs/models/homedepot-anchored-base")


def _median(runs: int, fn: Callable[[], float]) -> float:
    return statistics.median(fn() for _ in range(runs))


def _catalog(items: int, seed: int = 0) -> np.ndarray:
    """``items`` vectors: real Home Depot item vectors, tiled, jittered and re-normalised."""
    with np.load(next(HD_VECTORS.glob("dual-*.npz"))) as stored:
        real = stored["vectors"].astype(np.float32)
    rng = np.random.default_rng(seed)
    out = real[rng.integers(0, len(real), items)] + rng.normal(0, 0.02, (items, real.shape[1])).astype(np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def index_section(items: int, texts: int, repeats: int) -> dict:
    from onesearch.scale import ray_index

    vectors = _catalog(items)
    ids = [f"i{n}" for n in range(items)]
    config = CodebookConfig.for_catalog(items)
    began = time.perf_counter()
    quantizers = Quantizers.fit(vectors[sample_rows(ids, 200_000)], config)
    fit_seconds = time.perf_counter() - began
    local = _median(repeats, lambda: items / _timed(lambda: quantizers.assign(vectors)))
    out: dict = {"items": items, "config": {"levels": list(config.levels), "opq": config.opq_subcodes}, "fit_seconds_200k": round(fit_seconds, 1),
                 "code_items_per_s": {"single_process": round(local)}}
    catalog_texts = _texts(texts)
    from onesearch.embedding.encoder import load_encoder

    encoder = load_encoder("minilm")
    out["encode_items_per_s"] = {"single_process": round(_median(repeats, lambda: texts / _timed(lambda: encoder.encode(catalog_texts, "item")))) }
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        table = pa.table({"row": np.arange(items), "item_id": ids, "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), vectors.shape[1])})
        shards = ray_index.write_shards(table, Path(tmp) / "catalog", 50_000)
        text_shards = ray_index.write_shards(pa.table({"row": np.arange(texts), "item_id": [f"t{n}" for n in range(texts)], "text": catalog_texts}), Path(tmp) / "texts", 256)
        for workers in (1, 2):
            ray_index.connect(None, workers)
            code = _median(repeats, lambda: items / _timed(lambda: ray_index.code(ray_index.read(shards), quantizers, workers).write_parquet(tempfile.mkdtemp(dir=tmp))))
            encode = _median(repeats, lambda: texts / _timed(lambda: ray_index.encode(ray_index.read(text_shards), _plan(Path(tempfile.mkdtemp(dir=tmp)), workers)).materialize()))
            out["code_items_per_s"][f"ray_{workers}"] = round(code)
            out["encode_items_per_s"][f"ray_{workers}"] = round(encode)
            import ray

            ray.shutdown()
    return out


def _plan(cache: Path, workers: int):  # type: ignore[no-untyped-def]
    """The encode stage's plan: MiniLM, an empty cache, no keywords."""
    from onesearch.scale import ray_index

    return ray_index.IndexPlan("minilm", cache, CodebookConfig(balanced_last=False), workers=workers)


def _texts(count: int) -> list[str]:
    from onesearch.catalog import registry
    from onesearch.catalog.text import item_text

    items = registry.load("homedepot", Path("../shared/data")).items.select(["title", "brand", "category"]).slice(0, count).to_pydict()
    return [item_text(t, b, c) for t, b, c in zip(items["title"], items["brand"], items["category"])]


def _timed(fn: Callable[[], object]) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def _ddp_model() -> AnchoredDecoder:
    manifest = json.loads((HD_MODEL / "manifest.json").read_text())
    nodes = tuple(manifest["config"]["model"]["nodes"])
    torch.manual_seed(0)
    return AnchoredDecoder(AnchoredConfig(dim=384, nodes=nodes, evidence=manifest["config"]["model"]["evidence"], hidden=32))


def ddp_steps(world: World, steps: int, plain: bool) -> float:
    """Examples/s of ``steps`` listwise steps at global batch 64 (this rank's share of each)."""
    model = _ddp_model()
    depths = len(model.config.nodes)

    class Loss(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, query: torch.Tensor, nodes: list[torch.Tensor], evidence: list[torch.Tensor]) -> torch.Tensor:
            states = self.model.states(query, query)
            total = torch.zeros(())
            for depth in range(depths):
                scores = self.model.score(states[:, depth], depth, nodes[depth], evidence[depth])
                total = total + torch.nn.functional.cross_entropy(scores, torch.zeros(len(query), dtype=torch.long))
            return total

    loss_of = Loss() if plain else torch.nn.parallel.DistributedDataParallel(Loss(), find_unused_parameters=True)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    local = 64 // world.size
    generator = torch.Generator().manual_seed(world.rank)
    batch = (torch.randn(local, 384, generator=generator),
             [torch.randint(0, count, (local, min(count, 600)), generator=generator) for count in model.config.nodes],
             [torch.randn(local, min(count, 600), model.config.evidence, generator=generator) for count in model.config.nodes])
    began = time.perf_counter()
    for _ in range(steps):
        loss = loss_of(*batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return steps * 64 / (time.perf_counter() - began)


def _ddp_rank(world: World, steps: int) -> float:
    """DDP steps on this rank; one rank (``launch`` runs it in this process) joins a group of one."""
    if torch.distributed.is_initialized():
        return ddp_steps(world, steps, plain=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=0, world_size=1)
    try:
        return ddp_steps(world, steps, plain=False)
    finally:
        torch.distributed.destroy_process_group()


def training_section(steps: int, repeats: int) -> dict:
    plain = _median(repeats, lambda: ddp_steps(World(), steps, plain=True))
    one = _median(repeats, lambda: launch(_ddp_rank, 1, steps)[0])
    two = _median(repeats, lambda: launch(_ddp_rank, 2, steps)[0])  # every rank times the same global steps
    return {"steps": steps, "global_batch": 64, "examples_per_s": {"single_process": round(plain, 1), "ddp_1": round(one, 1), "ddp_2": round(two, 1)}}


def serving_section(bundle_path: Path, seconds: float, repeats: int, clients: int) -> dict:
    bundle = Bundle.read(bundle_path)
    queries = _queries(bundle, None, 500)
    out = {"bundle": str(bundle_path), "searcher": "generative", "clients": clients, "req_per_s": {}}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory(prefix="bench-scale-serve-") as tmp:
            server, url = _start(bundle, Path(tmp), secrets.token_urlsafe(24), 256, workers)
            try:
                asyncio.run(_load(url, "generative", queries, 1, 3.0))
                out["req_per_s"][f"replicas_{workers}"] = round(statistics.median(asyncio.run(_load(url, "generative", queries, clients, seconds))["throughput"] for _ in range(repeats)), 1)
            finally:
                server.terminate()
                server.wait(60)
    return out


def _table(report: dict) -> str:
    rows = ["| engine | measure | single process | 1 worker | 2 workers | per worker at 2 | overhead (single / 1 worker) |", "|---|---|---|---|---|---|---|"]

    def row(name: str, measure: str, single: float | None, one: float, two: float) -> None:
        overhead = f"{single / one:.2f}x" if single else "-"
        rows.append(f"| {name} | {measure} | {single if single is not None else '-'} | {one} | {two} | {two / 2:.1f} | {overhead} |")

    index = report.get("index")
    if index:
        row("Ray Data", "code items/s", index["code_items_per_s"]["single_process"], index["code_items_per_s"]["ray_1"], index["code_items_per_s"]["ray_2"])
        row("Ray Data", "encode items/s", index["encode_items_per_s"]["single_process"], index["encode_items_per_s"]["ray_1"], index["encode_items_per_s"]["ray_2"])
    training = report.get("training")
    if training:
        e = training["examples_per_s"]
        row("torch DDP (gloo)", "train examples/s", e["single_process"], e["ddp_1"], e["ddp_2"])
    serving = report.get("serving")
    if serving:
        r = serving["req_per_s"]
        row("uvicorn replicas", "req/s (generative)", None, r["replicas_1"], r["replicas_2"])
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--texts", type=int, default=2048)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--bundle", type=Path, default=Path("configs/serve/homedepot.toml"))
    parser.add_argument("--sections", nargs="+", default=["index", "training", "serving"], choices=["index", "training", "serving"])
    parser.add_argument("--out", type=Path, default=Path("runs/bench/scale.json"))
    args = parser.parse_args()
    report: dict = {"machine": machine(), "repeats": args.repeats}
    if "index" in args.sections:
        report["index"] = index_section(args.items, args.texts, args.repeats)
        print(json.dumps(report["index"]), flush=True)
    if "training" in args.sections:
        report["training"] = training_section(args.steps, args.repeats)
        print(json.dumps(report["training"]), flush=True)
    if "serving" in args.sections:
        report["serving"] = serving_section(args.bundle, args.seconds, args.repeats, args.clients)
        print(json.dumps(report["serving"]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"machine: {machine()}\n\n{_table(report)}")


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())
