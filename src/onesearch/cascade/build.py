"""Build (or reuse) every artifact of a cascade for one prepared data set.

Contract: ``build_cascade(dataset, directory, settings)`` returns a ready ``Cascade``. Each
artifact lives in its own sub-directory of ``directory`` and is written atomically, so a run
that stops half way keeps what it finished and the next run resumes: ``bm25/``, ``dual-encoder/``
(fine-tuned on the train split's query-item pairs), ``embeddings/`` (item vectors keyed by encoder
and text) and ``ltr/`` (pre-rank and rank boosters). Only the train split teaches (valid stops
early); test is never read. A shop without query logs (a catalog alone) gets no rankers: its
cascade ranks recall by reciprocal-rank fusion. The caller keys ``directory`` by the data it was
built from (``cascade_directory``). The pieces (``lexical_index``, ``dense_encoder``,
``encode_catalog``, ``unranked_cascade``, ``train_rankers``) are public so a live build can serve
each searcher as soon as its part exists; long ones report progress through ``advance``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from onesearch.artifacts import atomic_directory, write_manifest
from onesearch.errors import DataError
from onesearch.evidence.bm25 import Bm25Index
from onesearch.evidence.items import ItemTable, train_popularity
from onesearch.cascade.dense import DenseIndex
from onesearch.cascade.engine import PRERANK_COLUMNS, Cascade, CascadeConfig
from onesearch.cascade.features import FEATURES
from onesearch.cascade.ltr import RankerConfig, fit_stage, training_lists
from onesearch.evidence.tokenize import Tokenizer, detect_language
from onesearch.catalog.schema import Dataset, examples_of
from onesearch.embedding.cache import encode_cached
from onesearch.embedding.dual import DualConfig, fine_tune
from onesearch.embedding.encoder import TextEncoder, load_encoder
from onesearch.catalog.context import ContextResolver
from onesearch.types import Example

__all__ = ["Advance", "BuildSettings", "EncodedCatalog", "build_cascade", "cascade_directory", "dense_encoder", "encode_catalog", "has_labels", "has_query_logs", "has_users",
           "lexical_index", "train_rankers", "unranked_cascade"]

Log = Callable[[str], None]
Advance = Callable[[int, int], None]  # (units done, units in all) of a long step


@dataclass(frozen=True)
class BuildSettings:
    """What to build: the dense encoder (``dual`` = fine-tuned here, or a shipped name) and stage sizes."""

    encoder: str = "dual"
    cascade: CascadeConfig = CascadeConfig()
    dual: DualConfig = DualConfig()
    max_pairs: int = 40_000
    ltr_queries: int = 5_000
    prerank: RankerConfig = RankerConfig(trees=100, leaves=7)
    rank: RankerConfig = RankerConfig()
    seed: int = 0


@dataclass
class EncodedCatalog:
    """The catalog's rows, its analyser, the dense encoder and one unit vector per row."""

    items: ItemTable
    tokenizer: Tokenizer
    encoder: TextEncoder
    vectors: np.ndarray
    train: list[Example]


def has_query_logs(dataset: Dataset) -> bool:
    """True when the train split has a query with a relevant item (what fine-tuning learns from)."""
    return any(e.query and any(t.relevant for t in e.targets) for e in examples_of(dataset.examples) if e.split == "train")


def has_users(dataset: Dataset) -> bool:
    """True when a train example with a relevant item names its user (what co-buy evidence counts)."""
    return any(e.user_id is not None and any(t.relevant for t in e.targets) for e in examples_of(dataset.examples) if e.split == "train")


def has_labels(dataset: Dataset) -> bool:
    """True when the train split has an example with a relevant item, with or without a query
    (what the rankers learn from: next-item tasks have no query)."""
    return any(any(t.relevant for t in e.targets) for e in examples_of(dataset.examples) if e.split == "train")


def encode_catalog(dataset: Dataset, directory: Path, settings: BuildSettings = BuildSettings(), log: Log = print, advance: Advance | None = None) -> EncodedCatalog:
    """Item rows and vectors of ``dataset`` with the settings' encoder (fine-tuning it first
    when ``encoder`` is ``dual`` and ``directory`` has none yet); vectors come from the cache.
    ``advance`` hears the texts encoded so far of those missing from the cache."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = _tokenizer(dataset)
    items = ItemTable.from_items(dataset.items, tokenizer)
    train = [e for e in examples_of(dataset.examples) if e.split == "train"]
    encoder = load_encoder(dense_encoder(dataset, directory, settings, log))
    log(f"encoding {len(items):,} item texts with {encoder.key} (cached in {directory / 'embeddings'})")
    encoded = [0]

    def count(batch: int) -> None:
        encoded[0] += batch
        if advance is not None:
            advance(encoded[0], len(items))

    vectors = encode_cached(encoder, items.texts, "item", directory / "embeddings", count)
    return EncodedCatalog(items, tokenizer, encoder, vectors, train)


def lexical_index(dataset: Dataset, directory: Path, log: Log = print) -> tuple[ItemTable, Bm25Index]:
    """The catalog's rows and its BM25 index (built once into ``directory/bm25``)."""
    tokenizer = _tokenizer(dataset)
    items = ItemTable.from_items(dataset.items, tokenizer)
    return items, _bm25(items, tokenizer, Path(directory) / "bm25", log)


def _tokenizer(dataset: Dataset) -> Tokenizer:
    return Tokenizer(detect_language(dataset.items["title"].to_pylist()))


def cascade_directory(cache: Path, task: str, fingerprint: str) -> Path:
    """The one folder of a task's cascade (and its vectors, codebooks and default models) under
    ``cache``, keyed by the data they learn from (``Dataset.training_fingerprint``)."""
    return Path(cache) / f"{task}-{fingerprint}"


def build_cascade(dataset: Dataset, directory: Path, settings: BuildSettings = BuildSettings(), log: Log = print) -> Cascade:
    """The cascade over ``dataset``'s catalog, building whatever ``directory`` lacks."""
    directory = Path(directory)
    catalog = encode_catalog(dataset, directory, settings, log)
    cascade = unranked_cascade(dataset, directory, catalog, settings, log)
    if has_labels(dataset):
        train_rankers(cascade, dataset, directory, settings, log)
    else:
        log("no labelled train examples (no logs yet): the cascade ranks its recall by reciprocal-rank fusion (no rankers to train)")
    return cascade


def unranked_cascade(dataset: Dataset, directory: Path, catalog: EncodedCatalog, settings: BuildSettings = BuildSettings(), log: Log = print) -> Cascade:
    """The cascade of an encoded catalog before its rankers (pre-rank and rank fall back to RRF)."""
    bm25 = _bm25(catalog.items, catalog.tokenizer, Path(directory) / "bm25", log)
    return Cascade(catalog.items, bm25, DenseIndex(catalog.vectors), catalog.encoder, train_popularity(catalog.items, catalog.train), settings.cascade)


def train_rankers(cascade: Cascade, dataset: Dataset, directory: Path, settings: BuildSettings = BuildSettings(), log: Log = print, advance: Advance | None = None) -> None:
    """Train (once, into ``directory/ltr-<encoder>``) and attach the pre-rank and rank boosters;
    ``advance`` hears the LTR lists built so far."""
    import lightgbm as lgb

    path = Path(directory) / f"ltr-{cascade.encoder.key}"
    if not (path / "rank.txt").is_file():
        train = [e for e in examples_of(dataset.examples) if e.split == "train"]
        _train_rankers(cascade, dataset, train, path, settings, log, advance)
    cascade.prerank_model = lgb.Booster(model_file=str(path / "prerank.txt"))
    cascade.rank_model = lgb.Booster(model_file=str(path / "rank.txt"))


def _bm25(items: ItemTable, tokenizer: Tokenizer, path: Path, log: Log) -> Bm25Index:
    if not path.is_dir():
        log(f"indexing {len(items):,} items with BM25 ({tokenizer.language})")
        with atomic_directory(path) as tmp:
            Bm25Index.build(items.texts, tokenizer).save(tmp)
    return Bm25Index.load(path, tokenizer)


def dense_encoder(dataset: Dataset, directory: Path, settings: BuildSettings = BuildSettings(), log: Log = print, advance: Advance | None = None) -> str:
    """The spec of the settings' dense encoder: a shipped name as given, or for ``dual`` the
    encoder fine-tuned (once, into ``directory/dual-encoder``) on the train split's query-item pairs;
    ``advance`` hears the fine-tuning steps."""
    if settings.encoder != "dual":
        return settings.encoder
    path = Path(directory) / "dual-encoder"
    if not (path / "model.safetensors").is_file():
        items = ItemTable.from_items(dataset.items, _tokenizer(dataset))
        pairs = _pairs(items, [e for e in examples_of(dataset.examples) if e.split == "train"], settings.max_pairs, settings.seed)
        if len(pairs) < 2:
            raise DataError(f"the {dataset.name} task has no train queries to fine-tune the dual encoder on: pass --encoder minilm (or another shipped encoder)")
        log(f"fine-tuning the dual encoder on {len(pairs):,} train query-item pairs")
        losses = fine_tune(pairs, path, settings.dual, log, advance)
        log(f"dual encoder losses: {json.dumps(losses)}")
    return str(path)


def _pairs(items: ItemTable, train: list[Example], max_pairs: int, seed: int) -> list[tuple[str, str]]:
    pairs = [
        (e.query, items.texts[items.row_of[t.item_id]])
        for e in train
        if e.query
        for t in e.targets
        if t.relevant and t.item_id in items.row_of
    ]
    random.Random(seed).shuffle(pairs)
    return pairs[:max_pairs]


def _train_rankers(cascade: Cascade, dataset: Dataset, train: list[Example], path: Path, settings: BuildSettings, log: Log, advance: Advance | None) -> None:
    resolver = ContextResolver(dataset)
    valid = [e for e in examples_of(dataset.examples) if e.split == "valid"]
    rng = random.Random(settings.seed)
    train_sample = rng.sample(train, min(len(train), settings.ltr_queries))
    valid_sample = rng.sample(valid, min(len(valid), max(1, settings.ltr_queries // 4)))
    log(f"building LTR lists for {len(train_sample):,} train and {len(valid_sample):,} valid queries")
    total, listed = len(train_sample) + len(valid_sample), [0]

    def count(batch: int) -> None:
        listed[0] += batch
        if advance is not None:
            advance(listed[0], total)

    train_lists = training_lists(cascade, train_sample, resolver.requests(train_sample), leave_one_out=True, advance=count)
    valid_lists = training_lists(cascade, valid_sample, resolver.requests(valid_sample), leave_one_out=False, advance=count)
    prerank = fit_stage(train_lists, valid_lists, PRERANK_COLUMNS, settings.prerank)
    cascade.prerank_model = prerank
    keep = settings.cascade.prerank_keep
    scorer = cascade.prerank
    rank = fit_stage(train_lists.top(scorer, keep), valid_lists.top(scorer, keep), range(len(FEATURES)), settings.rank)
    importance = dict(zip(FEATURES, rank.feature_importance("gain").round(1).tolist()))
    log(f"rank model: {rank.best_iteration} trees; gain importance {json.dumps(importance)}")
    with atomic_directory(path) as tmp:
        prerank.save_model(str(tmp / "prerank.txt"), num_iteration=prerank.best_iteration)
        rank.save_model(str(tmp / "rank.txt"), num_iteration=rank.best_iteration)
        write_manifest(
            tmp,
            "cascade-rankers",
            config={"settings": _jsonable(asdict(settings)), "features": list(FEATURES)},
            inputs={},
            train_queries=len(train_lists.features),
            valid_queries=len(valid_lists.features),
            best_iterations={"prerank": prerank.best_iteration, "rank": rank.best_iteration},
            importance=importance,
            valid_ndcg10={"prerank": prerank.best_score["valid_0"]["ndcg@10"], "rank": rank.best_score["valid_0"]["ndcg@10"]},
        )


def _jsonable(value: object) -> object:
    return json.loads(json.dumps(value, default=str))

