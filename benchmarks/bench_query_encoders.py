"""Query encoders at batch 1: CPU per query and closeness to the fine-tuned MiniLM, in one run.

The generative searcher's largest cost was the MiniLM forward pass on the query. This script
races the alternatives on the first ``--queries`` queries of a split (after the shared query
understanding step), each at batch 1, CPU ms per query as the median of ``--repeats`` passes:

- the fine-tuned dual encoder (MiniLM, PyTorch): the reference;
- the same weights exported to ONNX and quantised to int8 (ONNX Runtime, dynamic quantisation);
- the static query encoder distilled from it (``embedding.static``, the recipe's ``query_encoder``);
- a cache of head queries' MiniLM vectors (the ``--head`` most frequent train queries): a hit
  costs a lookup, a miss the MiniLM pass; its hit rate on the split is reported.

Closeness is the mean cosine of each encoder's query vector to the reference's; quality is the
NDCG@10 of plain dense retrieval over the catalog's item vectors with each encoder's query
vectors (the items each query should find, on the split). ``--find-weights`` adds one static
encoder per weight of its contrastive loss (``StaticConfig.find_weight``; each distilled once into
the task's cache), the sweep that picked the default. ONNX needs the ``bench`` extra (``pip install
-e '.[bench]'``); without it that row is skipped. Usage:

    .venv/bin/python benchmarks/bench_query_encoders.py --task homedepot [--split valid] [--queries 1500] [--repeats 5] [--head 10000] [--find-weights 0 0.5 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from _machine import machine
from onesearch.cascade.build import BuildSettings, cascade_directory, encode_catalog
from onesearch.catalog import registry
from onesearch.catalog.schema import examples_of
from onesearch.cli.data import data_root
from onesearch.cli.train import ensure_static_encoder
from onesearch.embedding.encoder import TextEncoder, load_encoder, normalize
from onesearch.embedding.static import StaticConfig
from onesearch.evaluation.metrics import score_ranking
from onesearch.evidence.understanding import QueryUnderstanding

Encode = Callable[[Sequence[str]], np.ndarray]


def _cpu_per_query(encode: Encode, queries: list[str], repeats: int) -> float:
    """Median over ``repeats`` passes of the mean CPU ms per query at batch 1."""
    passes = []
    for _ in range(repeats):
        start = time.process_time()
        for query in queries:
            encode([query])
        passes.append((time.process_time() - start) * 1000.0 / len(queries))
    return round(statistics.median(passes), 3)


def onnx_int8(model_dir: Path, work: Path) -> Encode | None:
    """The dual encoder as an int8 ONNX Runtime session (mean pooling, normalised), or None
    without onnxruntime."""
    try:
        import onnxruntime
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        return None
    import torch
    from transformers import AutoModel, AutoTokenizer

    class Hidden(torch.nn.Module):
        """The transformer's last hidden states from ids and mask (what the export traces)."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(model_dir)).eval()

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    sample = tokenizer(["a sample query"], return_tensors="pt")
    full, quantised = work / "minilm.onnx", work / "minilm-int8.onnx"
    torch.onnx.export(Hidden().eval(), (sample["input_ids"], sample["attention_mask"]), str(full), input_names=["input_ids", "attention_mask"],
                      output_names=["hidden"], dynamic_axes={"input_ids": {0: "b", 1: "t"}, "attention_mask": {0: "b", 1: "t"}, "hidden": {0: "b", 1: "t"}},
                      dynamo=False)
    quantize_dynamic(str(full), str(quantised), weight_type=QuantType.QInt8)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # batch 1: one thread, as the searchers' policy
    session = onnxruntime.InferenceSession(str(quantised), options, providers=["CPUExecutionProvider"])

    def encode(texts: Sequence[str]) -> np.ndarray:
        batch = tokenizer(list(texts), return_tensors="np", padding=True, truncation=True, max_length=48)
        mask = batch["attention_mask"].astype(np.float32)
        hidden = session.run(None, {"input_ids": batch["input_ids"].astype(np.int64), "attention_mask": batch["attention_mask"].astype(np.int64)})[0]
        return normalize((hidden * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9))

    return encode


def head_cache(reference: Encode, train_queries: list[str], size: int) -> tuple[Encode, set[str]]:
    """The reference's vectors of the ``size`` most frequent train queries: a hit is a lookup,
    a miss runs the reference."""
    head = [q for q, _ in Counter(train_queries).most_common(size)]
    table = dict(zip(head, reference(head)))

    def encode(texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in texts if t not in table]
        fresh = dict(zip(missing, reference(missing))) if missing else {}
        return np.stack([table[t] if t in table else fresh[t] for t in texts])

    return encode, set(head)


def static_encode(encoder: TextEncoder) -> Encode:
    """Query texts -> the encoder's query vectors."""
    return lambda texts: encoder.encode(texts, "query")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="homedepot")
    parser.add_argument("--split", default="valid")
    parser.add_argument("--queries", type=int, default=1500)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--head", type=int, default=10_000)
    parser.add_argument("--find-weights", type=float, nargs="*", default=[], help="static encoders with these find_weight values beside the default")
    parser.add_argument("--cache", type=Path, default=Path("runs/cache"))
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    dataset = registry.load(args.task, data_root(args.data))
    directory = cascade_directory(args.cache, args.task, dataset.training_fingerprint())
    understand = QueryUnderstanding.for_items(dataset.items)
    examples = list(examples_of(dataset.examples))
    scored = [e for e in examples if e.split == args.split and e.query][: args.queries]
    queries = [understand(e.query) for e in scored]
    train = [understand(e.query) for e in examples if e.split == "train" and e.query]
    catalog = encode_catalog(dataset, directory, BuildSettings(), log=lambda _: None)

    def dense_ndcg(vectors: np.ndarray) -> float:
        top = np.argsort(-(vectors @ catalog.vectors.T), axis=1)[:, :10]
        found = [score_ranking([catalog.items.ids[r] for r in row], e.targets, (10,)) for row, e in zip(top, scored)]
        return round(float(np.mean([m["ndcg@10"] for m in found if m is not None])), 4)

    full = load_encoder(str((directory / "dual-encoder").resolve()))
    reference: Encode = lambda texts: full.encode(texts, "query")  # noqa: E731
    static = load_encoder(str(ensure_static_encoder(dataset, directory)))
    cached, head = head_cache(reference, train, args.head)
    encoders: dict[str, Encode] = {"MiniLM, PyTorch (reference)": reference, "static token bag (default)": static_encode(static), f"head-query cache ({args.head:,})": cached}
    for weight in args.find_weights:
        variant = load_encoder(str(ensure_static_encoder(dataset, directory, config=replace(StaticConfig(), find_weight=weight))))
        encoders[f"static token bag, find_weight {weight:g}"] = static_encode(variant)
    with tempfile.TemporaryDirectory() as work:
        onnx = onnx_int8(directory / "dual-encoder", Path(work))
        if onnx is not None:
            encoders["MiniLM int8, ONNX Runtime"] = onnx
        truth = np.concatenate([reference([q]) for q in queries])
        rows = {}
        for name, encode in encoders.items():
            vectors = np.concatenate([encode([q]) for q in queries])
            rows[name] = {"cpu_ms": _cpu_per_query(encode, queries, args.repeats), "cosine": round(float(np.mean(np.sum(vectors * truth, axis=1))), 4), "dense_ndcg@10": dense_ndcg(vectors)}
    hit_rate = sum(q in head for q in queries) / len(queries)
    print(f"{args.task} {args.split}, first {len(queries)} queries, batch 1, medians of {args.repeats} passes; head-cache hit rate {hit_rate:.3f}; {machine()}")
    print("| query encoder | CPU ms/q | vs MiniLM | cosine to MiniLM | dense NDCG@10 |")
    print("|---|---|---|---|---|")
    base = rows["MiniLM, PyTorch (reference)"]["cpu_ms"]
    for name, row in rows.items():
        print(f"| {name} | {row['cpu_ms']:.3f} | {row['cpu_ms'] / base:.3f} | {row['cosine']:.4f} | {row['dense_ndcg@10']:.4f} |")
    print(json.dumps({"task": args.task, "split": args.split, "queries": len(queries), "head_hit_rate": round(hit_rate, 4), "machine": machine(), "rows": rows}))


if __name__ == "__main__":
    main()
