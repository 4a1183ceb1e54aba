"""Build (or reuse) every artifact of a cascade for one prepared data set.

Contract: ``build_cascade(dataset, directory, settings)`` returns a ready ``Cascade``. Each
artifact lives in its own sub-directory of ``directory`` and is written atomically, so a run
that stops half way keeps what it finished and the next run resumes: ``bm25/``, ``dual-encoder/``
(fine-tuned on the train split's query-item pairs), ``embeddings/`` (item vectors keyed by encoder
and text) and ``ltr/`` (pre-rank and rank boosters). Only the train split teaches (valid stops
early); test is never read. The caller keys ``directory`` by the data it was built from
(``cascade_directory``).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from onesearch.artifacts import atomic_directory, write_manifest
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

__all__ = ["BuildSettings", "EncodedCatalog", "build_cascade", "cascade_directory", "encode_catalog"]

Log = Callable[[str], None]


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


def encode_catalog(dataset: Dataset, directory: Path, settings: BuildSettings = BuildSettings(), log: Log = print) -> EncodedCatalog:
    """Item rows and vectors of ``dataset`` with the settings' encoder (fine-tuning it first
    when ``encoder`` is ``dual`` and ``directory`` has none yet); vectors come from the cache."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = Tokenizer(detect_language(dataset.items["title"].to_pylist()))
    items = ItemTable.from_items(dataset.items, tokenizer)
    train = [e for e in examples_of(dataset.examples) if e.split == "train"]
    encoder = load_encoder(_encoder_path(items, train, directory, settings, log))
    log(f"encoding {len(items):,} item texts with {encoder.key} (cached in {directory / 'embeddings'})")
    encoded = [0]

    def advance(count: int) -> None:
        encoded[0] += count
        log(f"  encoded {encoded[0]:,} new texts")

    vectors = encode_cached(encoder, items.texts, "item", directory / "embeddings", advance)
    return EncodedCatalog(items, tokenizer, encoder, vectors, train)


def cascade_directory(cache: Path, task: str, fingerprint: str) -> Path:
    """The one folder of a task's cascade (and its vectors, codebooks and default models) under
    ``cache``, keyed by the data they learn from (``Dataset.training_fingerprint``)."""
    return Path(cache) / f"{task}-{fingerprint}"


def build_cascade(dataset: Dataset, directory: Path, settings: BuildSettings = BuildSettings(), log: Log = print) -> Cascade:
    """The cascade over ``dataset``'s catalog, building whatever ``directory`` lacks."""
    directory = Path(directory)
    catalog = encode_catalog(dataset, directory, settings, log)
    bm25 = _bm25(catalog.items, catalog.tokenizer, directory / "bm25", log)
    popularity = train_popularity(catalog.items, catalog.train)
    cascade = Cascade(catalog.items, bm25, DenseIndex(catalog.vectors), catalog.encoder, popularity, settings.cascade)
    _rankers(cascade, dataset, catalog.train, directory / f"ltr-{catalog.encoder.key}", settings, log)
    return cascade


def _bm25(items: ItemTable, tokenizer: Tokenizer, path: Path, log: Log) -> Bm25Index:
    if not path.is_dir():
        log(f"indexing {len(items):,} items with BM25 ({tokenizer.language})")
        with atomic_directory(path) as tmp:
            Bm25Index.build(items.texts, tokenizer).save(tmp)
    return Bm25Index.load(path, tokenizer)


def _encoder_path(items: ItemTable, train: list[Example], directory: Path, settings: BuildSettings, log: Log) -> str:
    if settings.encoder != "dual":
        return settings.encoder
    path = directory / "dual-encoder"
    if not (path / "model.safetensors").is_file():
        pairs = _pairs(items, train, settings.max_pairs, settings.seed)
        log(f"fine-tuning the dual encoder on {len(pairs):,} train query-item pairs")
        losses = fine_tune(pairs, path, settings.dual, log)
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


def _rankers(cascade: Cascade, dataset: Dataset, train: list[Example], path: Path, settings: BuildSettings, log: Log) -> None:
    import lightgbm as lgb

    if not (path / "rank.txt").is_file():
        _train_rankers(cascade, dataset, train, path, settings, log)
    cascade.prerank_model = lgb.Booster(model_file=str(path / "prerank.txt"))
    cascade.rank_model = lgb.Booster(model_file=str(path / "rank.txt"))


def _train_rankers(cascade: Cascade, dataset: Dataset, train: list[Example], path: Path, settings: BuildSettings, log: Log) -> None:
    resolver = ContextResolver(dataset)
    valid = [e for e in examples_of(dataset.examples) if e.split == "valid"]
    rng = random.Random(settings.seed)
    train_sample = rng.sample(train, min(len(train), settings.ltr_queries))
    valid_sample = rng.sample(valid, min(len(valid), max(1, settings.ltr_queries // 4)))
    log(f"building LTR lists for {len(train_sample):,} train and {len(valid_sample):,} valid queries")
    train_lists = training_lists(cascade, train_sample, resolver.requests(train_sample), leave_one_out=True)
    valid_lists = training_lists(cascade, valid_sample, resolver.requests(valid_sample), leave_one_out=False)
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

