"""The semantic-id index built on Ray Data: catalog shards in, code shards and the codebook out.

Contract: ``build_on_ray(shards, plan, out)`` reads the catalog's Parquet shards (``row``,
``item_id`` and either ``text`` or a precomputed ``vector``), encodes texts in an actor pool
(each actor loads the encoder once and reads the embedding cache once; only the driver adds the
new vectors to the cache, ``embedding.cache.store``), fuses each vector with its keywords'
vectors, fits the quantizers on the driver on ``sample_rows`` of the catalog, codes every item in
a second actor pool (each actor holds the quantizers once) and writes, atomically, the codebook
folder of ``SemanticIdCodebook.save`` with the code shards under ``shards/`` (``row``,
``item_id``, one ``c<position>`` column per code position, ``error``). The codes, suffixes and
quantizers are exactly those of ``SemanticIdCodebook.fit(vectors, ids, config, sample=...)`` in
one process on the same vectors and seed. ``connect(address, workers)`` joins a running cluster
(``address``, or ``RAY_ADDRESS``) or starts a local Ray with ``workers`` + 1 CPUs.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from onesearch.embedding.cache import CacheView, store
from onesearch.embedding.encoder import load_encoder
from onesearch.embedding.keywords import Keyword, KeywordFuser
from onesearch.semantic_ids.codebook import CodebookConfig, Quantizers, SemanticIdCodebook, sample_rows

__all__ = ["IndexPlan", "build_on_ray", "code", "connect", "encode", "read", "write_shards"]

Log = Callable[[str], None]
BATCH = 2048


@dataclass(frozen=True)
class IndexPlan:
    """What the sharded build does: encoder (None: the shards carry vectors), embedding cache,
    keyword pool and its vectors, codebook shape, sample size, actors per pool."""

    encoder: str | None
    cache: Path | None
    config: CodebookConfig
    sample: int = 200_000
    workers: int = 2
    keywords: Sequence[Keyword] = ()
    keyword_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))


def connect(address: str | None, workers: int) -> None:
    """Join the Ray cluster at ``address`` (or ``RAY_ADDRESS``); else start a local one with
    ``workers`` + 1 CPUs (the actors' and one for reading). Ray Data keeps the shards' order."""
    import ray

    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS")
        options: dict[str, Any] = {"address": address} if address else {"num_cpus": workers + 1, "include_dashboard": False}  # one CPU for reads beside the actors
        ray.init(**options, log_to_driver=False, logging_level="ERROR")
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    ray.data.DataContext.get_current().execution_options.preserve_order = True
    ray.data.DataContext.get_current().enable_progress_bars = False


def write_shards(table: pa.Table, directory: Path, rows_per_shard: int) -> list[Path]:
    """``table`` (with ``row`` and ``item_id``) as Parquet shards ``part-00000.parquet``, … in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, start in enumerate(range(0, max(len(table), 1), rows_per_shard)):
        path = directory / f"part-{n:05d}.parquet"
        pq.write_table(table.slice(start, rows_per_shard), path)
        paths.append(path)
    return paths


class _Encode:
    """One encoding actor: the encoder and the cache view, loaded once."""

    def __init__(self, encoder: str, cache: str, keywords: Sequence[Keyword], keyword_vectors: np.ndarray) -> None:
        self.encoder = load_encoder(encoder)
        self.view = CacheView(self.encoder.key, self.encoder.dim, Path(cache))
        self.fuser = KeywordFuser(keywords, keyword_vectors) if len(keywords) else None

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        raw, found = self.view.lookup(texts, "item")
        if not found.all():
            raw[~found] = self.encoder.encode([t for t, hit in zip(texts, found) if not hit], "item")
        vectors = self.fuser.fused(texts, raw) if self.fuser is not None else raw
        return {"row": batch["row"], "item_id": batch["item_id"], "text": batch["text"], "raw": raw, "new": ~found, "vector": vectors}


class _Code:
    """One coding actor: the fitted quantizers, received once."""

    def __init__(self, quantizers: Quantizers) -> None:
        self.quantizers = quantizers

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        codes, error = self.quantizers.assign(np.stack(batch["vector"]).astype(np.float32))
        return {"row": batch["row"], "item_id": batch["item_id"], **{f"c{p}": codes[:, p] for p in range(codes.shape[1])}, "error": error}


def read(shards: Sequence[Path]) -> Any:
    """The Ray dataset of the catalog's Parquet shards."""
    import ray

    return ray.data.read_parquet([str(s) for s in shards])


def encode(data: Any, plan: IndexPlan) -> Any:
    """``data`` (``row``, ``item_id``, ``text``) with each item's encoder vector (``raw``, and
    whether the cache lacked it: ``new``) and keyword-fused vector (``vector``), computed in an
    actor pool of ``plan.workers``."""
    import ray

    return data.map_batches(_Encode, fn_constructor_kwargs={"encoder": plan.encoder, "cache": str(plan.cache), "keywords": list(plan.keywords),
                                                            "keyword_vectors": plan.keyword_vectors}, batch_size=BATCH, compute=ray.data.ActorPoolStrategy(size=plan.workers), num_cpus=1)


def code(data: Any, quantizers: Quantizers, workers: int) -> Any:
    """``data`` (``row``, ``item_id``, ``vector``) coded in an actor pool of ``workers``: ``row``,
    ``item_id``, ``c<position>`` and ``error``."""
    import ray

    return data.map_batches(_Code, fn_constructor_kwargs={"quantizers": quantizers}, batch_size=BATCH, compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=1)


def build_on_ray(shards: Sequence[Path], plan: IndexPlan, out: Path, log: Log = print, extra: Mapping[str, str] | None = None,
                 metrics: Callable[[SemanticIdCodebook, np.ndarray], dict] | None = None) -> SemanticIdCodebook:  # type: ignore[type-arg]
    """Build the codebook of the catalog in ``shards`` on the connected Ray (see module
    docstring) into ``out``, with the ``extra`` text files; ``metrics(codebook, vectors)`` (on
    the driver) goes in its manifest."""
    data = read(shards)
    if plan.encoder is not None:
        log(f"encoding texts in {plan.workers} actors ({plan.encoder})")
        data = encode(data, plan)
    data = data.materialize()
    if plan.encoder is not None:
        _store_new(data, plan, log)
    ids = data.select_columns(["row", "item_id"]).to_pandas().sort_values("row")
    rows = sample_rows(ids["item_id"].tolist(), plan.sample, plan.config.seed)
    log(f"fitting {plan.config.levels} residual k-means + {plan.config.opq_subcodes} OPQ sub-codes on {len(rows):,} of {len(ids):,} items (driver)")
    sample = data.map_batches(_rows_in, fn_kwargs={"wanted": ids["row"].to_numpy()[rows]}, batch_size=BATCH).to_pandas().sort_values("row")
    quantizers = Quantizers.fit(np.stack(sample["vector"].to_numpy()).astype(np.float32), plan.config)
    log(f"coding {len(ids):,} items in {plan.workers} actors")
    with tempfile.TemporaryDirectory(prefix=".shards-", dir=out.parent if out.parent.exists() else None) as tmp:
        code(data, quantizers, plan.workers).write_parquet(tmp)
        table = pq.read_table(tmp).sort_by("row")
        positions = len(plan.config.code_sizes)
        codes = np.stack([table[f"c{p}"].to_numpy() for p in range(positions)], axis=1).astype(np.int64)
        codebook = SemanticIdCodebook.from_assignments(quantizers, table["item_id"].to_pylist(), codes, table["error"].to_numpy())
        vectors = np.stack(data.select_columns(["row", "vector"]).to_pandas().sort_values("row")["vector"].to_numpy()).astype(np.float32) if metrics else None
        codebook.save(out, metrics=metrics(codebook, vectors) if metrics and vectors is not None else {}, extra=extra, attach={"shards": Path(tmp)})
    log(f"wrote {out} ({len(codebook.item_ids):,} items, code shards under shards/)")
    return codebook


def _rows_in(batch: dict[str, np.ndarray], wanted: np.ndarray) -> dict[str, np.ndarray]:
    """The batch's rows whose ``row`` is in ``wanted`` (their row number and vector)."""
    keep = np.isin(batch["row"], wanted)
    return {"row": batch["row"][keep], "vector": np.stack(batch["vector"])[keep] if keep.any() else np.zeros((0, 1), np.float32)}


def _store_new(data: Any, plan: IndexPlan, log: Log) -> None:
    """Add the vectors the actors computed to the embedding cache (the driver is its one writer)."""
    new = data.filter(lambda r: bool(r["new"])).select_columns(["text", "raw"]).to_pandas()
    if len(new):
        encoder = load_encoder(plan.encoder)  # type: ignore[arg-type]
        log(f"storing {len(new):,} new vectors in the embedding cache")
        store(encoder.key, encoder.dim, new["text"].tolist(), "item", np.stack(new["raw"].to_numpy()), plan.cache)  # type: ignore[arg-type]
