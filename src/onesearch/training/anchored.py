"""Training the anchored, planned generative searcher to rank, and its model folder.

Contract: ``train_anchored(dataset, codebook_dir, encoder, vectors_dir, out, recipe)`` builds the
look-ahead plan's indexes (BM25 and character n-gram BM25 over the item texts, train
popularity), anchors an ``AnchoredDecoder`` on the codebook's prefix reconstructions and the
items' own vectors, trains it on the train split with a listwise softmax loss at every code depth
(a node's target is the best gain among its items; the candidates are the shallow depths' every
node, deeper the nodes of the plan, the targets, the untrained model's dense top items and random
items), keeps the epoch with the best valid NDCG@10, and writes the model folder atomically.
Test examples are never read. ``load_planned(directory, items)`` rebuilds the searcher from the
folder and the catalog's items table. Train-time popularity is leave-one-out for the example's
own targets at every depth (a prefix's popularity is recomputed without them). A catalog without
logs (no train examples) learns from pseudo-queries cut from its titles (``pseudo_examples``).
With ``distill=N`` the train split gains N pseudo-queries labelled by a ``Teacher`` (the caller's
ranker, e.g. the cascade): each one's targets are the teacher's top ``TEACHER_DEPTH`` items with
gain 1 / log2(rank + 1) (``teacher_examples``); popularity and next-item counts never see them,
and their listwise loss is weighted by ``distill_weight`` (a real example's by 1).

Folder: ``model.safetensors`` + ``manifest.json`` (model config, recipe, encoder, codebook,
losses, valid curve) + ``codes.npy`` (full codes by catalog row) + ``item_ids.json`` +
``popularity.npy`` + ``transitions.npy`` (next-item counts, when the train split has histories) +
``bm25/`` and ``ngrams/`` (the plan's indexes). A train example's own (last item, target) pairs
are left out of its next-item evidence.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import torch

from onesearch.artifacts import atomic_directory, file_sha256, read_manifest, write_manifest
from onesearch.catalog.context import ContextResolver
from onesearch.catalog.schema import Dataset, examples_of
from onesearch.decoding.planned import DENSE, NodeEvidence, PlanLike, PlannedSearcher, dense_plan, selected, stand_ins, user_vectors
from onesearch.decoding.tree import CodeTree
from onesearch.embedding.cache import encode_cached
from onesearch.embedding.encoder import load_encoder
from onesearch.errors import DataError
from onesearch.evaluation.metrics import score_ranking
from onesearch.evidence.bm25 import Bm25Index
from onesearch.evidence.items import ItemTable, train_popularity
from onesearch.evidence.plan import EVIDENCE, LEXICAL, LOG_RANKS, PAIRS, STATIC, USER, Plan, Planner
from onesearch.evidence.spelling import Speller
from onesearch.evidence.tokenize import Tokenizer, detect_language
from onesearch.evidence.transitions import Transitions
from onesearch.model.anchored import AnchoredConfig, AnchoredDecoder
from onesearch.semantic_ids.codebook import SemanticIdCodebook, free_full_codes
from onesearch.semantic_ids.query import TextCoder
from onesearch.training.distributed import World
from onesearch.training.recipe import apply_setting
from onesearch.training.examples import pseudo_queries
from onesearch.types import Example, SearchRequest, Target

__all__ = ["KIND", "TEACHER_DEPTH", "AnchoredRecipe", "PlannedModel", "Teacher", "checkpoint_path", "evidence_columns", "listwise_loss", "load_planned", "node_vectors", "pseudo_examples",
           "teacher_examples", "train_anchored"]

KIND = "anchored-generative"
WEIGHTS = "model.safetensors"
LEXICAL_RANK = EVIDENCE.index("bm25_reciprocal_rank")
FULL_DEPTH = 1024  # depths with at most this many nodes are trained against every node
PSEUDO_PER_ITEM = 3  # pseudo-queries per item when the shop has no logs
TEACHER_DEPTH = 30  # a teacher-labelled pseudo-query's targets: the teacher's top items
Log = Callable[[str], None]
Teacher = Callable[[list[str]], list[list[str]]]  # query texts -> each one's ranked item ids, best first


@dataclass(frozen=True)
class AnchoredRecipe:
    """What to train and how; saved with the model. The switches are the ablations."""

    anchored: bool = True
    learn_nodes: bool = False
    user: bool = True
    behaviour_query: bool = True  # an empty query's vector is the user's behaviour vector (no encoder run)
    query_correction: bool = False
    lexical_plan: bool = True
    behaviour_plan: bool = True
    ngrams: bool = True
    spelling: bool = True
    prefix_loss: bool = True
    pair_coverage: bool = True
    log_ranks: bool = False
    distill: int = 0
    distill_weight: float = 1.0
    epochs: int = 5
    batch_size: int = 64
    learning_rate: float = 2e-3
    hidden: int = 32
    temperature: float = 0.05
    examples_per_epoch: int = 8_000
    max_train_examples: int = 24_000
    dense_negatives: int = 100  # dense top items among the deep depths' candidates (adds nothing up to dense_plan, whose items are planned)
    random_negatives: int = 3_000  # picked on amazon-industrial valid (HR@10 0.1273 vs 0.1192 with 1,000); Home Depot valid: 0.4725 vs 0.4720
    dense_plan: int = 300
    dense_evidence: bool = False
    prefix_weight: float = 0.5
    plan_depth: int = 300
    beam: int = 400
    valid_queries: int = 400
    seed: int = 0

    @classmethod
    def from_settings(cls, settings: Sequence[str]) -> AnchoredRecipe:
        """A recipe from ``KEY=VALUE`` settings (TOML values); an unknown key is one clear error."""
        raw: dict[str, Any] = {}
        for setting in settings:
            apply_setting(raw, setting)
        known = {f.name for f in fields(cls)}
        unknown = sorted({s.partition("=")[0].strip() for s in settings} - known)
        if unknown:
            raise DataError(f"unknown setting(s) {', '.join(unknown)}: expected some of {', '.join(sorted(known))}")
        return replace(cls(), **raw)

    def fingerprint(self) -> str:
        """Short hash of the recipe (names the default model trained with it)."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:10]


def _evidence_width(recipe: AnchoredRecipe) -> int:
    return len(STATIC) + len(evidence_columns(recipe))


def evidence_columns(recipe: AnchoredRecipe) -> np.ndarray:
    """Indices of the evidence columns the recipe's model reads, of ``EVIDENCE`` followed (with a
    dense plan) by ``DENSE``: the word-pair and log-rank columns only when switched on."""
    names = (*EVIDENCE, *(DENSE if recipe.dense_plan else ()))
    off = {*(() if recipe.pair_coverage else PAIRS), *(() if recipe.log_ranks else (*LOG_RANKS, "dense_log_rank"))}
    return np.array([i for i, name in enumerate(names) if name not in off], dtype=np.int64)


@dataclass
class _Example:
    query: np.ndarray
    history: list[int]
    plan: PlanLike
    targets: np.ndarray
    gains: np.ndarray
    candidates: np.ndarray
    weight: float = 1.0


@dataclass
class _Parts:
    """Everything the model and the searcher are built on, shared by training and loading."""

    items: ItemTable
    codes: np.ndarray
    tree: CodeTree
    planner: Planner
    recipe: AnchoredRecipe
    speller: Speller | None = None

    def correct(self, query: str) -> str:
        """The query with its misspelled words corrected (unchanged without a speller)."""
        return self.speller.correct(query) if self.speller is not None else query

    def corrected(self, requests: list[SearchRequest]) -> list[SearchRequest]:
        return [replace(r, query=self.correct(r.query)) for r in requests]

    def plan(self, request: SearchRequest, extra: np.ndarray | None = None, exclude: Collection[tuple[int, int]] = ()) -> Plan:
        """The request's plan with the recipe's switched-off evidence columns zeroed; the ``extra``
        rows (the dense plan's) get the same evidence columns when the recipe says ``dense_evidence``."""
        plan = self.planner.plan(request, exclude, extra if self.recipe.dense_evidence else None)
        off = [i for i, name in enumerate(EVIDENCE) if (name in LEXICAL and not self.recipe.lexical_plan) or (name in USER and not self.recipe.behaviour_plan)]
        plan.features[:, off] = 0.0
        return plan

    def static(self, rows: np.ndarray | None = None, exclude: frozenset[int] = frozenset()) -> np.ndarray:
        static = self.planner.static(rows, exclude)
        return static if self.recipe.behaviour_plan else np.zeros_like(static)


def train_anchored(dataset: Dataset, codebook_dir: Path, encoder: str, vectors_dir: Path, out: Path, recipe: AnchoredRecipe = AnchoredRecipe(), log: Log = print,
                   advance: Callable[[int, int], None] | None = None, world: World = World(), resume: bool = False,
                   teacher: Teacher | None = None) -> dict[str, Any]:
    """Train and save the model (see module docstring); returns the training summary. ``advance``
    hears (units done, units in all): each train example planned, then each batch trained.
    ``teacher`` labels the recipe's ``distill`` pseudo-queries (required when ``distill`` > 0).

    Data parallel (``world.size > 1``, every rank calls this): each rank plans its shard of the
    train sample and trains on it under DDP with ``recipe.batch_size // world.size`` examples per
    step (the same global batch); rank 0 scores valid, logs, checkpoints and saves. After every
    epoch rank 0 writes ``OUT.checkpoint.pt``; ``resume`` continues from it (same recipe and
    world size), bit for bit where the interrupted run would have gone."""
    started = time.perf_counter()
    if not world.main:
        log, advance = (lambda _: None), None
    rng = random.Random(recipe.seed)
    torch.manual_seed(recipe.seed)
    weights: dict[str, float] = {}
    tokenizer = Tokenizer(detect_language(dataset.items["title"].to_pylist()))
    items = ItemTable.from_items(dataset.items, tokenizer)
    codebook = SemanticIdCodebook.load(codebook_dir)
    codes = _aligned_codes(codebook, items.ids, codebook_dir)
    text_encoder = load_encoder(encoder)
    log(f"item and query vectors of {encoder} (cached in {vectors_dir})")
    item_vectors = encode_cached(text_encoder, items.texts, "item", vectors_dir)
    train_examples = [e for e in examples_of(dataset.examples) if e.split == "train"]
    valid_examples = [e for e in examples_of(dataset.examples) if e.split == "valid"]
    if not any(e.targets for e in train_examples):
        log(f"no train examples: learning from {PSEUDO_PER_ITEM} pseudo-queries cut from each item's title (a catalog without logs)")
        train_examples, valid_examples = pseudo_examples(items, rng)
    log(f"building the plan's indexes over {len(items):,} items")
    bm25 = Bm25Index.build(items.texts, tokenizer)
    ngrams = Bm25Index.build(items.texts, Tokenizer("ngram")) if recipe.ngrams else None
    popularity = train_popularity(items, train_examples)
    resolver = ContextResolver(dataset)
    transitions = _transitions(items, train_examples, resolver)
    if recipe.distill:
        if teacher is None:
            raise DataError(f"distill={recipe.distill} needs a teacher to label its pseudo-queries (onesearch train uses the task's cascade)")
        log(f"labelling {recipe.distill:,} pseudo-queries with the teacher's top {TEACHER_DEPTH}")
        taught = teacher_examples(items, teacher, recipe.distill, random.Random(recipe.seed + 1))
        train_examples, weights = [*train_examples, *taught], {e.example_id: recipe.distill_weight for e in taught}
    tree = CodeTree(codes)
    parts = _Parts(items, codes, tree, Planner(items, bm25, popularity, recipe.plan_depth, ngrams, transitions), recipe, _speller(items, recipe))
    nodes = node_vectors(codebook, codes, item_vectors, tree)
    config = AnchoredConfig(dim=item_vectors.shape[1], nodes=tree.counts, evidence=_evidence_width(recipe), hidden=recipe.hidden,
                            temperature=recipe.temperature, anchored=recipe.anchored, learn_nodes=recipe.learn_nodes, user=recipe.user,
                            query_correction=recipe.query_correction)
    model = AnchoredDecoder(config, [torch.from_numpy(v) for v in nodes])
    sample = rng.sample(train_examples, min(len(train_examples), recipe.max_train_examples))
    query_of = _query_vectors(text_encoder, [parts.correct(e.query or "") for e in [*sample, *valid_examples]], vectors_dir)
    per_epoch = -(-min(len(sample), recipe.examples_per_epoch) // recipe.batch_size)
    shard = world.shard(sample)
    log(f"planning {len(shard):,} train examples" + (f" (rank 0's shard of {len(sample):,}; {world.size} ranks)" if world.size > 1 else ""))
    work = Progress(advance, len(shard) + recipe.epochs * per_epoch)
    train_set = _training_set(parts, shard, parts.corrected(resolver.requests(shard)), query_of, item_vectors, rng, work, weights)
    valid = rng.sample(valid_examples, min(len(valid_examples), recipe.valid_queries))
    searcher = PlannedSearcher(model, items.ids, codes, lambda texts: query_of(texts), parts.plan, parts.static(), recipe.beam, dense_depth=recipe.dense_plan,
                               lexical_rank=LEXICAL_RANK, rewrite=parts.correct, columns=evidence_columns(recipe), behaviour_query=recipe.behaviour_query)
    run = _Run(world, checkpoint_path(out), resume, world.total(len(train_set)))
    history = _fit(model, train_set, parts, item_vectors, searcher, valid, resolver.requests(valid), log, work, run)
    summary = {"train_examples": run.examples, "valid_queries": len(valid), "history": history, "workers": world.size, "seconds": round(time.perf_counter() - started, 1)}
    if world.main:
        _save(out, model, parts, bm25, ngrams, popularity, transitions, encoder, codebook_dir, summary)
        run.checkpoint.unlink(missing_ok=True)
        log(f"saved {out}: best valid NDCG@10 {max(h['valid_ndcg@10'] for h in history):.4f} in {summary['seconds']} s")
    world.barrier()
    return summary


def checkpoint_path(out: Path) -> Path:
    """Where training into ``out`` keeps its latest epoch until the model folder is written."""
    return out.with_name(out.name + ".checkpoint.pt")


def load_planned(directory: Path, items_table: pa.Table, beam: int | None = None, exhaustive: bool | None = None, encoder: str | None = None) -> PlannedSearcher:
    """The searcher of a model folder over the catalog ``items_table`` it was trained on. It takes
    queries as they come: spelling correction is the shared step in front of every searcher
    (``evidence.understanding``)."""
    return PlannedModel(directory, encoder).searcher(items_table, beam, exhaustive)


class PlannedModel:
    """A verified model folder that answers over its own catalog or, for a service, a changed one.

    ``searcher(items, changed=True)`` accepts items added, edited or removed since training:
    an item the model knows keeps its trained full code and vector; a new item is encoded with
    the model's encoder, coded through the codebook's encode path (keyword-fused, like every
    item) and takes the smallest free collision suffix of its code, so the anchored model can
    write it at once; its nodes are anchored on the codebook's reconstructions like the trained
    ones. The lexical indexes are rebuilt over the changed texts; popularity and next-item counts
    follow the item ids (new items have none). Without ``changed`` another catalog is refused.
    """

    def __init__(self, directory: Path, encoder: str | None = None) -> None:
        from safetensors.torch import load_file

        self.directory = directory = Path(directory)
        manifest = read_manifest(directory, kind=KIND)
        if file_sha256(directory / WEIGHTS) != manifest["weights_sha256"]:
            raise DataError("the weights file does not match the manifest's hash (damaged or replaced)", path=directory / WEIGHTS)
        saved = manifest["config"]["recipe"]
        unknown = sorted(set(saved) - {f.name for f in fields(AnchoredRecipe)})
        if unknown:
            raise DataError(f"the model was trained with recipe field(s) {', '.join(unknown)} that this version lacks (retrain it)", path=directory)
        self.recipe = AnchoredRecipe(**{"pair_coverage": False, "log_ranks": False, "behaviour_query": False, **saved})  # older models lack the switches
        raw = manifest["config"]["model"]
        self.config = AnchoredConfig(**{**raw, "nodes": tuple(raw["nodes"])})
        if self.config.evidence != _evidence_width(self.recipe):
            raise DataError(f"the model reads {self.config.evidence} evidence columns, this version plans {_evidence_width(self.recipe)} (retrain it)", path=directory)
        self.weights = {k: v.float() for k, v in load_file(str(directory / WEIGHTS)).items()}
        self.bm25 = Bm25Index.load(directory / "bm25")
        self.ngrams = Bm25Index.load(directory / "ngrams") if (directory / "ngrams").is_dir() else None
        self.ids: list[str] = json.loads((directory / "item_ids.json").read_text())
        self.codes = np.load(directory / "codes.npy")
        self.popularity = np.load(directory / "popularity.npy")
        self.transitions = Transitions.from_array(np.load(directory / "transitions.npy")) if (directory / "transitions.npy").is_file() else None
        self.index = Path(manifest["index"])
        self.encoder_spec = encoder or manifest["encoder"]
        self._encoder: Any = None

    @property
    def text_encoder(self) -> Any:
        if self._encoder is None:
            self._encoder = load_encoder(self.encoder_spec)
        return self._encoder

    def searcher(self, items_table: pa.Table, beam: int | None = None, exhaustive: bool | None = None, changed: bool = False) -> PlannedSearcher:
        """The searcher over ``items_table`` (see class docstring)."""
        items = ItemTable.from_items(items_table, self.bm25.tokenizer)
        if items.ids == self.ids:
            model = AnchoredDecoder(self.config)
            model.load_state_dict(self.weights)
            planner = Planner(items, self.bm25, self.popularity, self.recipe.plan_depth, self.ngrams, self.transitions)
            codes = self.codes
        elif not changed:
            raise DataError("the catalog differs from the one this model was trained on (retrain it)", path=self.directory)
        else:
            model, codes, planner = self._changed(items)
        parts = _Parts(items, codes, CodeTree(codes), planner, self.recipe)  # no speller: the shared step corrects in front
        return PlannedSearcher(model, items.ids, codes, lambda texts: self.text_encoder.encode(texts, "query"), parts.plan, parts.static(), beam or self.recipe.beam,
                               exhaustive, self.recipe.dense_plan, LEXICAL_RANK, parts.correct, evidence_columns(self.recipe), self.recipe.behaviour_query)

    def _changed(self, items: ItemTable) -> tuple[AnchoredDecoder, np.ndarray, Planner]:
        """Model, full codes and planner over a changed catalog."""
        if self.config.learn_nodes or not self.config.anchored:
            raise DataError("this model learned its own item vectors, so it cannot take a changed catalog (retrain it)", path=self.directory)
        old_row = {item: row for row, item in enumerate(self.ids)}
        known = [old_row.get(item, -1) for item in items.ids]
        new = [row for row, old in enumerate(known) if old < 0]
        trained_vectors = self.weights[f"base{len(self.config.nodes) - 1}"].numpy()[CodeTree(self.codes).paths[:, -1]]
        vectors = np.zeros((len(items), trained_vectors.shape[1]), dtype=np.float32)
        codes = np.zeros((len(items), self.codes.shape[1]), dtype=np.int64)
        kept = np.array([row for row, old in enumerate(known) if old >= 0], dtype=np.int64)
        vectors[kept], codes[kept] = trained_vectors[[known[r] for r in kept]], self.codes[[known[r] for r in kept]]
        if new:
            texts = [items.texts[row] for row in new]
            fresh = np.asarray(self.text_encoder.encode(texts, "item"), dtype=np.float32)
            coder = TextCoder.load(self.index, lambda words: self.text_encoder.encode(words, "item"))
            taken = {tuple(code) for code in codes[kept].tolist()}
            full = free_full_codes(coder.codes(texts, fresh), taken, len(self.ids) + len(new) + 1)
            vectors[new], codes[new] = fresh, np.array(full, dtype=np.int64)
        tree = CodeTree(codes)
        model = AnchoredDecoder(replace(self.config, nodes=tree.counts), [torch.from_numpy(v) for v in node_vectors(SemanticIdCodebook.load(self.index), codes, vectors, tree)])
        model.load_state_dict({k: v for k, v in self.weights.items() if not k.startswith(("base", "delta"))}, strict=False)
        popularity = np.array([self.popularity[old] if old >= 0 else 0.0 for old in known], dtype=np.float32)
        bm25 = Bm25Index.build(items.texts, self.bm25.tokenizer)
        ngrams = Bm25Index.build(items.texts, self.ngrams.tokenizer) if self.ngrams is not None else None
        return model, codes, Planner(items, bm25, popularity, self.recipe.plan_depth, ngrams, self._transitions(known))

    def _transitions(self, known: list[int]) -> Transitions | None:
        """The next-item counts with trained rows mapped to the changed catalog's rows."""
        if self.transitions is None:
            return None
        row = {old: new for new, old in enumerate(known) if old >= 0}
        pairs = self.transitions.to_array()
        kept = [(row[p], row[n], c) for p, n, c in pairs.tolist() if p in row and n in row]
        return Transitions.from_array(np.array(kept, dtype=np.int64).reshape(len(kept), 3))


def _aligned_codes(codebook: SemanticIdCodebook, item_ids: list[str], path: Path) -> np.ndarray:
    """Full codes (code + suffix) in catalog row order."""
    if sorted(codebook.item_ids) != sorted(item_ids):
        raise DataError("the codebook codes another catalog (rebuild it for this task)", path=path)
    full = np.concatenate([codebook.codes, codebook.suffix[:, None]], axis=1)
    row = {item: i for i, item in enumerate(codebook.item_ids)}
    return full[[row[item] for item in item_ids]]


def node_vectors(codebook: SemanticIdCodebook, codes: np.ndarray, item_vectors: np.ndarray, tree: CodeTree) -> list[np.ndarray]:
    """Per depth, each node's vector: the codebook's prefix reconstruction, and at the last depth
    (the collision suffix) the item's own vector."""
    per_depth = [*codebook.prefix_reconstructions(codes[:, :-1]), np.asarray(item_vectors, dtype=np.float32)]
    out = []
    for depth, vectors in enumerate(per_depth):
        nodes = np.zeros((tree.counts[depth], vectors.shape[1]), dtype=np.float32)
        nodes[tree.paths[:, depth]] = vectors
        out.append(nodes)
    return out


def _speller(items: ItemTable, recipe: AnchoredRecipe) -> Speller | None:
    """The recipe's query spelling corrector over the catalog's texts (rebuilt, not stored: it is
    a function of the texts alone)."""
    return Speller.from_texts(items.texts) if recipe.spelling else None


def _query_vectors(encoder: Any, queries: Sequence[str], directory: Path) -> Callable[[list[str]], np.ndarray]:
    """Query text -> vector for ``queries`` (encoded once, through the cache)."""
    texts = sorted(set(queries))
    vectors = encode_cached(encoder, texts, "query", directory)
    known = {text: i for i, text in enumerate(texts)}
    return lambda batch: vectors[[known[t] for t in batch]]


class Progress:
    """Counts units of work done towards ``total`` and tells ``advance`` (when given)."""

    def __init__(self, advance: Callable[[int, int], None] | None, total: int) -> None:
        self.advance, self.total, self.done = advance, total, 0

    def step(self) -> None:
        self.done += 1
        if self.advance is not None:
            self.advance(min(self.done, self.total), self.total)


def _training_set(parts: _Parts, examples: list[Example], requests: list[SearchRequest], query_of: Callable[[list[str]], np.ndarray], item_vectors: np.ndarray,
                  rng: random.Random, work: Progress | None = None, weights: dict[str, float] | None = None) -> list[_Example]:
    """Plan, targets and candidates of every example with a positive gain; ``weights`` holds the
    loss weight of the examples whose weight is not 1 (by example id)."""
    recipe = parts.recipe
    queries = query_of([r.query for r in requests])
    histories = [[parts.items.row_of[e.item_id] for e in r.user.history if e.item_id in parts.items.row_of] for r in requests]
    if recipe.behaviour_query:
        users = user_vectors(histories, torch.from_numpy(np.asarray(item_vectors, dtype=np.float32)))
        stand = stand_ins([r.query for r in requests], users)
        if stand:
            queries[stand] = users[stand].numpy()
    dense = _dense_top(queries, item_vectors, max(recipe.dense_negatives, recipe.dense_plan))
    columns = evidence_columns(recipe)
    out = []
    for i, (example, request) in enumerate(zip(examples, requests)):
        if work is not None:
            work.step()
        targets = [(parts.items.row_of[t.item_id], t.gain) for t in example.targets if t.item_id in parts.items.row_of]
        if not any(g > 0 for _, g in targets):
            continue
        rows = np.array([r for r, _ in targets], dtype=np.int64)
        history = histories[i]
        plan = parts.plan(request, dense[i][: recipe.dense_plan], {(history[-1], int(r)) for r in rows} if history else ())
        if recipe.dense_plan:
            plan = dense_plan(plan, dense[i][: recipe.dense_plan], LEXICAL_RANK)
        plan = selected(plan, columns)
        noise = np.array([rng.randrange(len(parts.items)) for _ in range(recipe.random_negatives)], dtype=np.int64)
        candidates = np.unique(np.concatenate([plan.rows, rows, dense[i][: recipe.dense_negatives], noise]))
        weight = (weights or {}).get(example.example_id, 1.0)
        out.append(_Example(queries[i], history, plan, rows, np.array([g for _, g in targets], dtype=np.float32), candidates, weight))
    return out


def pseudo_examples(items: ItemTable, rng: random.Random, valid_share: float = 0.1) -> tuple[list[Example], list[Example]]:
    """Train and valid examples for a catalog without logs: ``PSEUDO_PER_ITEM`` query-like cuts of
    each item's title (``pseudo_queries``), each with that item as its one target; a
    ``valid_share`` of the items is held out for early stopping."""
    train, valid = [], []
    for row, (item, text) in enumerate(zip(items.ids, items.texts)):
        split = "valid" if rng.random() < valid_share else "train"
        for n, query in enumerate(dict.fromkeys(pseudo_queries(text, [], PSEUDO_PER_ITEM, rng))):
            (valid if split == "valid" else train).append(Example(f"pseudo-{row}-{n}", split, (Target(item, 1.0, True),), query))
    return train, valid


def teacher_examples(items: ItemTable, teacher: Teacher, count: int, rng: random.Random) -> list[Example]:
    """Train examples distilled from ``teacher``: one pseudo-query cut from the text of each of
    ``count`` items drawn at random, its targets the teacher's top ``TEACHER_DEPTH`` items with
    gain 1 / log2(rank + 1) (a query the teacher finds nothing for is dropped)."""
    rows = rng.sample(range(len(items)), min(count, len(items)))
    queries = [query for row in rows for query in pseudo_queries(items.texts[row], [], 1, rng)]
    examples = []
    for n, (query, ranked) in enumerate(zip(queries, teacher(queries))):
        targets = tuple(Target(item, 1.0 / math.log2(rank + 2), True) for rank, item in enumerate(ranked[:TEACHER_DEPTH]))
        if targets:
            examples.append(Example(f"teacher-{n}", "train", targets, query))
    return examples


def _transitions(items: ItemTable, examples: list[Example], resolver: ContextResolver) -> Transitions | None:
    """Next-item counts of the train split (last history item -> each relevant target); None
    when no train example has a history."""
    pairs = []
    for example in examples:
        if example.user_id is None:
            continue
        history = [e.item_id for e in resolver.request(example).user.history if e.item_id in items.row_of]
        if history:
            pairs += [(items.row_of[history[-1]], items.row_of[t.item_id]) for t in example.targets if t.relevant and t.item_id in items.row_of]
    return Transitions.fit(pairs) if pairs else None


def _dense_top(queries: np.ndarray, items: np.ndarray, k: int, chunk: int = 512) -> np.ndarray:
    """Rows of the ``k`` best items by inner product for each query."""
    out = []
    matrix = torch.from_numpy(np.asarray(items, dtype=np.float32))
    for start in range(0, len(queries), chunk):
        scores = torch.from_numpy(np.asarray(queries[start : start + chunk], dtype=np.float32)) @ matrix.T
        out.append(torch.topk(scores, min(k, len(items)), dim=1).indices.numpy())
    return np.concatenate(out) if out else np.zeros((0, k), dtype=np.int64)


@dataclass(frozen=True)
class _Run:
    """How one training process runs: its world, its checkpoint file, whether it resumes, and the
    planned train examples over all ranks."""

    world: World
    checkpoint: Path
    resume: bool
    examples: int


class _RankingLoss(torch.nn.Module):
    """The listwise loss of a batch as a module's forward, so DDP can wrap it."""

    def __init__(self, model: AnchoredDecoder, parts: _Parts, static_nodes: list[np.ndarray], item_vectors: torch.Tensor) -> None:
        super().__init__()
        self.model, self.parts, self.static_nodes, self.item_vectors = model, parts, static_nodes, item_vectors

    def forward(self, batch: list[_Example]) -> torch.Tensor:
        return _batch_loss(self.model, batch, self.parts, self.static_nodes, self.item_vectors)


def _fit(model: AnchoredDecoder, train_set: list[_Example], parts: _Parts, item_vectors: np.ndarray, searcher: PlannedSearcher,
         valid: list[Example], valid_requests: list[SearchRequest], log: Log, work: Progress | None, run: _Run) -> list[dict[str, float]]:
    """Epochs of listwise training; the state of the best valid epoch (epoch 0 = untrained) is kept."""
    recipe, world = parts.recipe, run.world
    rng = random.Random(recipe.seed + 7919 * world.rank)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=recipe.learning_rate, weight_decay=0.0, foreach=True)
    static_nodes = [parts.tree.pool_all(parts.static(), d) for d in range(parts.tree.depth)]
    loss_of = world.wrap(_RankingLoss(model, parts, static_nodes, torch.from_numpy(np.asarray(item_vectors, dtype=np.float32))))
    done, best, best_state, history = _restored(run, model, optimizer, recipe, log)
    if done == 0:
        best = world.broadcast(_valid_ndcg(searcher, valid, valid_requests) if world.main else 0.0)
        history = [{"epoch": 0, "loss": float("nan"), "valid_ndcg@10": best}]
        log(f"epoch 0 (untrained): valid NDCG@10 {best:.4f}")
        best_state = {k: v.clone() for k, v in model.state_dict().items()}
    for epoch in range(1, recipe.epochs + 1):
        order = list(range(len(train_set)))
        rng.shuffle(order)  # drawn for the epochs a resumed run skips too, so it continues bit for bit
        if epoch <= done:
            continue
        model.train()
        losses, started = [], time.perf_counter()
        for rows in _epoch_batches(order, recipe, run):
            loss = loss_of([train_set[i] for i in rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
            if work is not None:
                work.step()
        model.eval()
        ndcg = world.broadcast(_valid_ndcg(searcher, valid, valid_requests) if world.main else 0.0)
        history.append({"epoch": epoch, "loss": float(np.mean(losses)), "valid_ndcg@10": ndcg})
        log(f"epoch {epoch}: loss {np.mean(losses):.4f}, {len(losses) * recipe.batch_size / (time.perf_counter() - started):.0f} examples/s, valid NDCG@10 {ndcg:.4f}")
        if ndcg > best:
            best, best_state = ndcg, {k: v.clone() for k, v in model.state_dict().items()}
        if world.main:
            _checkpoint(run, {"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict(), "best": best, "best_state": best_state,
                              "history": history, "recipe": recipe.fingerprint(), "workers": world.size})
    model.load_state_dict(best_state)
    model.eval()
    return history


def _epoch_batches(order: list[int], recipe: AnchoredRecipe, run: _Run) -> list[list[int]]:
    """One epoch's batches of local rows. One process: ``examples_per_epoch`` rows of ``order`` in
    batches of ``batch_size``. Several: every rank takes the same number of steps (sized on the
    examples over all ranks) of ``batch_size // size`` rows, cycling through its shard."""
    if run.world.size == 1:
        rows = order[: recipe.examples_per_epoch]
        return [rows[start : start + recipe.batch_size] for start in range(0, len(rows), recipe.batch_size)]
    local = max(1, recipe.batch_size // run.world.size)
    steps = -(-min(run.examples, recipe.examples_per_epoch) // (local * run.world.size))
    return [[order[(step * local + j) % len(order)] for j in range(local)] for step in range(steps)] if order else []


def _checkpoint(run: _Run, state: dict[str, Any]) -> None:
    """Write the epoch's state to the run's checkpoint file atomically."""
    tmp = run.checkpoint.with_name(run.checkpoint.name + ".tmp")
    tmp.parent.mkdir(parents=True, exist_ok=True)  # --out may name a folder whose parent is new
    torch.save(state, tmp)
    os.replace(tmp, run.checkpoint)


def _restored(run: _Run, model: AnchoredDecoder, optimizer: torch.optim.Optimizer, recipe: AnchoredRecipe,
              log: Log) -> tuple[int, float, dict[str, torch.Tensor], list[dict[str, float]]]:
    """(epochs done, best valid score, best state, history) from the checkpoint when resuming;
    (0, ...) otherwise. A checkpoint of another recipe or world size is one clear error."""
    if not run.resume or not run.checkpoint.is_file():
        if run.resume:
            log(f"no checkpoint at {run.checkpoint}: training from the start")
        return 0, 0.0, {}, []
    state = torch.load(run.checkpoint, weights_only=False)
    if state["recipe"] != recipe.fingerprint() or state["workers"] != run.world.size:
        raise DataError(f"the checkpoint was written by recipe {state['recipe']} on {state['workers']} worker(s), not this run's "
                        f"{recipe.fingerprint()} on {run.world.size}: resume with the same settings, or delete it", path=run.checkpoint)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    log(f"resuming after epoch {state['epoch']} from {run.checkpoint}")
    return int(state["epoch"]), float(state["best"]), state["best_state"], list(state["history"])


def _batch_loss(model: AnchoredDecoder, batch: list[_Example], parts: _Parts, static_nodes: list[np.ndarray], item_vectors: torch.Tensor) -> torch.Tensor:
    """Listwise softmax cross-entropy against gain-proportional targets, each example's weighted
    by its ``weight``, averaged over the batch and summed over depths."""
    weight = torch.tensor([e.weight for e in batch], dtype=torch.float32)
    query = torch.from_numpy(np.stack([e.query for e in batch]).astype(np.float32))
    user = user_vectors([e.history for e in batch], item_vectors) if model.config.user else None
    states = model.states(query, user)
    tree, last = parts.tree, parts.tree.depth - 1
    total = torch.zeros(())
    evidence_of = [NodeEvidence(tree, static_nodes, example.plan) for example in batch]
    for depth in range(tree.depth):
        if depth < last and not parts.recipe.prefix_loss:
            continue
        nodes, evidence, gains = [], [], []
        for example, node_evidence in zip(batch, evidence_of):
            at = np.arange(tree.counts[depth]) if tree.counts[depth] <= FULL_DEPTH else np.unique(tree.paths[example.candidates, depth])
            features = node_evidence.at(depth, at)
            _leave_one_out(features, at, depth, example.targets, parts)
            known, pooled = tree.pool_max(example.targets, example.gains[:, None], depth)
            gain = np.zeros(len(at), dtype=np.float32)
            index = np.searchsorted(at, known)
            gain[index] = np.maximum(pooled[:, 0], 0.0)
            nodes.append(at), evidence.append(features), gains.append(gain)
        full = tree.counts[depth] <= FULL_DEPTH
        width = max(len(n) for n in nodes)
        node_ids = torch.from_numpy(np.stack([np.pad(n, (0, width - len(n))) for n in nodes]))
        features_t = torch.from_numpy(np.stack([np.pad(f, ((0, width - len(f)), (0, 0))) for f in evidence]))
        gain_t = torch.from_numpy(np.stack([np.pad(g, (0, width - len(g))) for g in gains]))
        mask = torch.from_numpy(np.stack([np.arange(width) < len(n) for n in nodes]))
        if full:
            scores = model.score_all(states[:, depth], depth, features_t)
        else:
            scores = model.score(states[:, depth], depth, node_ids, features_t).masked_fill(~mask, float("-inf"))
        total = total + (1.0 if depth == last else parts.recipe.prefix_weight) * listwise_loss(scores, gain_t, mask, weight)
    return total


def listwise_loss(scores: torch.Tensor, gains: torch.Tensor, mask: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean over the rows with a positive gain of ``weight`` times the softmax cross-entropy of
    ``scores`` (``B x K``, -inf where ``mask`` is False) against the gain-proportional target."""
    has = gains.sum(1) > 0
    if not has.any():
        return torch.zeros(())
    target = gains[has] / gains[has].sum(1, keepdim=True)
    log_p = torch.log_softmax(scores[has], dim=1).masked_fill(~mask[has], 0.0)
    return -(weight[has] * (target * log_p).sum(1)).mean()


def _leave_one_out(features: np.ndarray, nodes: np.ndarray, depth: int, targets: np.ndarray, parts: _Parts) -> None:
    """Recompute the static (popularity) evidence of the targets' own nodes without the example's
    own targets, so a train example cannot find its answer through its own count."""
    exclude = frozenset(targets.tolist())
    for node in np.unique(parts.tree.paths[targets, depth]):
        index = int(np.searchsorted(nodes, node))
        features[index, : len(STATIC)] = parts.static(parts.tree.members(int(node), depth), exclude).max(axis=0)


def _valid_ndcg(searcher: PlannedSearcher, examples: list[Example], requests: list[SearchRequest]) -> float:
    """Mean NDCG@10 of the searcher over the scorable valid examples (read with the model's current weights)."""
    searcher.sync()
    scores = []
    for example, hits in zip(examples, searcher.search(requests, 10)):
        metrics = score_ranking([h.item_id for h in hits], example.targets, (10,))
        if metrics is not None:
            scores.append(metrics["ndcg@10"])
    return float(np.mean(scores)) if scores else 0.0


def _save(out: Path, model: AnchoredDecoder, parts: _Parts, bm25: Bm25Index, ngrams: Bm25Index | None, popularity: np.ndarray,
          transitions: Transitions | None, encoder: str, codebook_dir: Path, summary: dict[str, Any]) -> None:
    from safetensors.torch import save_file

    with atomic_directory(out) as tmp:
        save_file({k: v.detach().half().contiguous() for k, v in model.state_dict().items()}, str(tmp / WEIGHTS))
        np.save(tmp / "codes.npy", parts.codes)
        np.save(tmp / "popularity.npy", popularity)
        if transitions is not None:
            np.save(tmp / "transitions.npy", transitions.to_array())
        (tmp / "item_ids.json").write_text(json.dumps(parts.items.ids, ensure_ascii=False))
        bm25.save(_mkdir(tmp / "bm25"))
        if ngrams is not None:
            ngrams.save(_mkdir(tmp / "ngrams"))
        write_manifest(tmp, KIND, config={"model": asdict(model.config), "recipe": asdict(parts.recipe)}, inputs={},
                       weights_sha256=file_sha256(tmp / WEIGHTS), encoder=encoder, index=str(codebook_dir), **summary)


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
