"""Training the anchored, planned generative searcher to rank: the loop.

Contract: ``train_anchored(dataset, codebook_dir, encoder, vectors_dir, out, recipe)`` builds the
look-ahead plan's indexes (BM25 and character n-gram BM25 over the item texts, train
popularity, next-item counts), anchors an ``AnchoredDecoder`` on the codebook's prefix
reconstructions and the items' own vectors, trains it on the train split with the listwise loss
of ``training.losses`` over the examples of ``training.examples``, keeps the epoch with the best
valid NDCG@10, picks the served beam on valid (``_pick_beam``, with ``pick_beam``), and writes the model folder (``generative.folder``) atomically. Test examples are
never read. Train-time popularity is leave-one-out for the example's own targets at every depth.
A catalog without logs (no train examples) learns from pseudo-queries cut from its titles. With
``distill=N`` the train split gains N pseudo-queries labelled by a ``Teacher`` (the caller's
ranker, e.g. the cascade), their loss weighted by ``distill_weight``; popularity and next-item
counts never see them.
"""

from __future__ import annotations

import copy
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from onesearch.catalog.context import ContextResolver
from onesearch.catalog.schema import Dataset, examples_of
from onesearch.decoding.planned import PAGE, PlannedSearcher
from onesearch.embedding.cache import encode_cached
from onesearch.embedding.encoder import load_encoder
from onesearch.errors import DataError
from onesearch.evaluation.metrics import CUTOFFS, score_ranking
from onesearch.evidence.bm25 import Bm25Index
from onesearch.evidence.items import ItemTable, train_popularity
from onesearch.evidence.plan import Planner
from onesearch.evidence.tokenize import Tokenizer, detect_language
from onesearch.generative.folder import PlannedModel, save_model
from onesearch.generative.parts import LEXICAL_RANK, SearchParts, aligned_codes, node_vectors
from onesearch.generative.recipe import AnchoredRecipe, evidence_columns, evidence_width
from onesearch.model.anchored import AnchoredConfig, AnchoredDecoder
from onesearch.semantic_ids.codebook import SemanticIdCodebook
from onesearch.training.distributed import World
from onesearch.training.examples import (PSEUDO_PER_ITEM, TEACHER_DEPTH, PlannedExample, Progress, Rewarder, Teacher, co_buyers_of, preference_lists,
                                         pseudo_examples, teacher_examples, training_set, transitions_of)
from onesearch.training.losses import DpoLoss, RankingLoss
from onesearch.types import Example, SearchRequest

__all__ = ["checkpoint_path", "train_anchored"]

Log = Callable[[str], None]
RECALL_DEPTH = CUTOFFS[-1]  # the deep cut eval reports (Recall@350)
BEAM_LOSS = {"ndcg@10": 0.002, f"recall@{RECALL_DEPTH}": 0.005}  # what a narrower served beam may lose on valid (``_pick_beam``)
PAGE_LOSS = {"ndcg@10": 0.002, f"recall@{PAGE}": 0.002}  # what a narrower page beam may lose on valid, lists of PAGE items


def train_anchored(dataset: Dataset, codebook_dir: Path, encoder: str, vectors_dir: Path, out: Path, recipe: AnchoredRecipe = AnchoredRecipe(), log: Log = print,
                   advance: Callable[[int, int], None] | None = None, world: World = World(), resume: bool = False,
                   teacher: Teacher | None = None, rewarder: Rewarder | None = None, start: Path | None = None, query_encoder: str | None = None) -> dict[str, Any]:
    """Train and save the model (see module docstring); returns the training summary. ``advance``
    hears (units done, units in all): each train example planned, then each batch trained.
    ``teacher`` labels the recipe's ``distill`` pseudo-queries (required when ``distill`` > 0).
    ``query_encoder`` (a spec, default ``encoder``) encodes the query texts, in the items' space.
    With ``preference`` > 0 in the recipe this is the preference stage: the model starts from the
    supervised model folder ``start`` and learns ``rewarder``'s lists (``_preference``).

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
    codes = aligned_codes(codebook, items.ids, codebook_dir)
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
    transitions = transitions_of(items, train_examples, resolver, recipe.transition_window)
    co_buyers = co_buyers_of(items, train_examples) if recipe.co_buy else None
    if recipe.distill:
        if teacher is None:
            raise DataError(f"distill={recipe.distill} needs a teacher to label its pseudo-queries (onesearch train uses the task's cascade)")
        log(f"labelling {recipe.distill:,} pseudo-queries with the teacher's top {TEACHER_DEPTH}")
        taught = teacher_examples(items, teacher, recipe.distill, random.Random(recipe.seed + 1))
        train_examples, weights = [*train_examples, *taught], {e.example_id: recipe.distill_weight for e in taught}
    parts = SearchParts.with_speller(items, codes, Planner(items, bm25, popularity, recipe.plan_depth, ngrams, transitions, recipe.preceders, co_buyers), recipe)
    preference, preference_requests = _preference(items, train_examples, resolver, recipe, rewarder, start, log)
    nodes = node_vectors(codebook, codes, item_vectors, parts.tree)
    config = AnchoredConfig(dim=item_vectors.shape[1], nodes=parts.tree.counts, evidence=evidence_width(recipe), hidden=recipe.hidden,
                            temperature=recipe.temperature, anchored=recipe.anchored, learn_nodes=recipe.learn_nodes, user=recipe.user,
                            query_correction=recipe.query_correction, recency=recipe.recency_decay)
    model = AnchoredDecoder(config, [torch.from_numpy(v) for v in nodes])
    sample = rng.sample(train_examples, min(len(train_examples), recipe.max_train_examples))
    query_of = _query_vectors(load_encoder(query_encoder) if query_encoder else text_encoder, [parts.correct(e.query or "") for e in [*sample, *valid_examples, *preference]], vectors_dir)
    epochs = recipe.preference_epochs if recipe.preference else recipe.epochs
    per_epoch = -(-min(len(sample) + len(preference), recipe.examples_per_epoch) // recipe.batch_size)
    shard = world.shard(sample)
    log(f"planning {len(shard):,} train examples" + (f" (rank 0's shard of {len(sample):,}; {world.size} ranks)" if world.size > 1 else ""))
    work = Progress(advance, len(shard) + len(preference) + epochs * per_epoch)
    train_set = training_set(parts, shard, parts.corrected(resolver.requests(shard)), query_of, item_vectors, rng, work, weights)
    if preference:
        model.load_state_dict(PlannedModel(start).weights)  # type: ignore[arg-type]
        weights = {e.example_id: recipe.preference_weight for e in preference}
        preference_set = training_set(parts, preference, parts.corrected(preference_requests), query_of, item_vectors, random.Random(recipe.seed + 3), work, weights)  # its own draws: valid stays the supervised model's sample
        train_set = preference_set if recipe.preference_loss == "dpo" else [*train_set, *preference_set]
    valid = rng.sample(valid_examples, min(len(valid_examples), recipe.valid_queries))
    searcher = PlannedSearcher(model, items.ids, codes, lambda texts: query_of(texts), parts.plan, parts.static(), recipe.beam, dense_depth=recipe.dense_plan,
                               lexical_rank=LEXICAL_RANK, rewrite=parts.correct, columns=evidence_columns(recipe), behaviour_query=recipe.behaviour_query)
    run = _Run(world, checkpoint_path(out), resume, world.total(len(train_set)))
    history = _fit(model, train_set, parts, item_vectors, searcher, valid, resolver.requests(valid), log, work, run, epochs)
    picking = recipe.pick_beam and world.main and not searcher.exhaustive  # a small catalog is scored exhaustively: no beam to pick
    picked = _pick_beam(searcher, valid, resolver.requests(valid), recipe.beam, log) if picking else {}
    summary = {**picked, "train_examples": run.examples, "preference_lists": len(preference), "valid_queries": len(valid), "history": history, "workers": world.size, "seconds": round(time.perf_counter() - started, 1)}
    if world.main:
        save_model(out, model, parts, bm25, ngrams, popularity, transitions, encoder, codebook_dir, summary, query_encoder, co_buyers)
        run.checkpoint.unlink(missing_ok=True)
        log(f"saved {out}: best valid NDCG@10 {max(h['valid_ndcg@10'] for h in history):.4f} in {summary['seconds']} s")
    world.barrier()
    return summary


def checkpoint_path(out: Path) -> Path:
    """Where training into ``out`` keeps its latest epoch until the model folder is written."""
    return out.with_name(out.name + ".checkpoint.pt")


@dataclass(frozen=True)
class _Run:
    """How one training process runs: its world, its checkpoint file, whether it resumes, and the
    planned train examples over all ranks."""

    world: World
    checkpoint: Path
    resume: bool
    examples: int


def _preference(items: ItemTable, train: list[Example], resolver: ContextResolver, recipe: AnchoredRecipe, rewarder: Rewarder | None, start: Path | None,
                log: Log) -> tuple[list[Example], list[SearchRequest]]:
    """The preference stage's reward-ranked lists (none without the stage): half of them train
    requests drawn at random, half pseudo-queries."""
    if not recipe.preference:
        return [], []
    if rewarder is None or start is None:
        raise DataError(f"preference={recipe.preference} needs a reward model and the supervised model to start from (onesearch train builds both)")
    rng = random.Random(recipe.seed + 2)
    drawn = rng.sample(train, min(len(train), recipe.preference // 2))
    log(f"preference stage ({recipe.preference_loss}) from {start}: the reward model ranks {recipe.preference:,} requests (half train, half pseudo-queries)")
    return preference_lists(items, resolver.requests(drawn), rewarder, recipe.preference, recipe.preference_depth, rng)


def _fit(model: AnchoredDecoder, train_set: list[PlannedExample], parts: SearchParts, item_vectors: np.ndarray, searcher: PlannedSearcher,
         valid: list[Example], valid_requests: list[SearchRequest], log: Log, work: Progress | None, run: _Run, epochs: int) -> list[dict[str, float]]:
    """``epochs`` of listwise (or, in a DPO preference stage, list-wise DPO) training; the state
    of the best valid epoch (epoch 0 = the starting model) is kept. With ``ema`` in the recipe, valid
    scores (and the model keeps) the moving average of the weights, while training goes on from
    the trained weights."""
    recipe, world = parts.recipe, run.world
    rng = random.Random(recipe.seed + 7919 * world.rank)
    optimizer = _optimizer(model, recipe)
    averaged = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(recipe.ema)) if recipe.ema else None
    static_nodes = [parts.tree.pool_all(parts.static(), d) for d in range(parts.tree.depth)]
    vectors = torch.from_numpy(np.asarray(item_vectors, dtype=np.float32))
    if recipe.preference and recipe.preference_loss == "dpo":
        reference = copy.deepcopy(model).requires_grad_(False)
        loss_of = world.wrap(DpoLoss(model, reference, parts, static_nodes, vectors))
    else:
        loss_of = world.wrap(RankingLoss(model, parts, static_nodes, vectors))
    done, best, best_state, history = _restored(run, model, optimizer, averaged, recipe, log)
    if done == 0:
        best = world.broadcast(_valid_ndcg(searcher, valid, valid_requests) if world.main else 0.0)
        history = [{"epoch": 0, "loss": float("nan"), "valid_ndcg@10": best}]
        log(f"epoch 0 ({'the supervised model' if recipe.preference else 'untrained'}): valid NDCG@10 {best:.4f}")
        best_state = {k: v.clone() for k, v in model.state_dict().items()}
    for epoch in range(1, epochs + 1):
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
            if averaged is not None:
                averaged.update_parameters(model)
            losses.append(float(loss.detach()))
            if work is not None:
                work.step()
        model.eval()
        trained = _swap_in(model, averaged)
        ndcg = world.broadcast(_valid_ndcg(searcher, valid, valid_requests) if world.main else 0.0)
        history.append({"epoch": epoch, "loss": float(np.mean(losses)), "valid_ndcg@10": ndcg})
        log(f"epoch {epoch}: loss {np.mean(losses):.4f}, {len(losses) * recipe.batch_size / (time.perf_counter() - started):.0f} examples/s, valid NDCG@10 {ndcg:.4f}")
        if ndcg > best:
            best, best_state = ndcg, {k: v.clone() for k, v in model.state_dict().items()}
        if trained is not None:
            model.load_state_dict(trained)
        if world.main:
            _checkpoint(run, {"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict(), "best": best, "best_state": best_state,
                              "history": history, "recipe": recipe.fingerprint(), "workers": world.size,
                              "averaged": None if averaged is None else averaged.state_dict()})
    model.load_state_dict(best_state)
    model.eval()
    return history


def _optimizer(model: AnchoredDecoder, recipe: AnchoredRecipe) -> torch.optim.Optimizer:
    """AdamW over the trainable weights; ``weight_decay`` acts on the matrices only (the maps and
    the MLPs' weights), never on the per-depth score scales or the biases."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in trainable if p.dim() >= 2], "weight_decay": recipe.weight_decay},
              {"params": [p for p in trainable if p.dim() < 2], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=recipe.learning_rate, foreach=True)


def _swap_in(model: AnchoredDecoder, averaged: AveragedModel | None) -> dict[str, torch.Tensor] | None:
    """Load the averaged weights into ``model`` and return a copy of the trained weights they
    replace, which the caller loads back before training on; None (nothing copied) without averaging."""
    if averaged is None:
        return None
    trained = {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(averaged.module.state_dict())
    return trained


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


def _restored(run: _Run, model: AnchoredDecoder, optimizer: torch.optim.Optimizer, averaged: AveragedModel | None, recipe: AnchoredRecipe,
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
    if averaged is not None:
        averaged.load_state_dict(state["averaged"])
    log(f"resuming after epoch {state['epoch']} from {run.checkpoint}")
    return int(state["epoch"]), float(state["best"]), state["best_state"], list(state["history"])


def _valid_ndcg(searcher: PlannedSearcher, examples: list[Example], requests: list[SearchRequest]) -> float:
    """Mean NDCG@10 of the searcher over the scorable valid examples (read with the model's current weights)."""
    return _valid_scores(searcher, examples, requests, 10)["ndcg@10"]


def _valid_scores(searcher: PlannedSearcher, examples: list[Example], requests: list[SearchRequest], k: int) -> dict[str, float]:
    """Mean NDCG@10 and Recall@``k`` of the searcher's top ``k`` over the scorable valid examples
    (read with the model's current weights); 0 for both when none is scorable."""
    searcher.sync()
    scored = [m for example, hits in zip(examples, searcher.search(requests, k)) if (m := score_ranking([h.item_id for h in hits], example.targets, (10, k))) is not None]
    return {name: float(np.mean([m[name] for m in scored])) if scored else 0.0 for name in ("ndcg@10", f"recall@{k}")}


def _pick_beam(searcher: PlannedSearcher, examples: list[Example], requests: list[SearchRequest], widest: int, log: Log) -> dict[str, int]:
    """The served beams: ``beam``, the narrowest of ``widest`` / 4, / 2 and ``widest`` whose valid
    NDCG@10 and Recall@``RECALL_DEPTH`` are each at most ``BEAM_LOSS`` below the widest beam's,
    and ``page_beam``, the narrowest of ``widest`` / 8 up to ``widest`` whose lists of ``PAGE``
    items lose at most ``PAGE_LOSS`` of NDCG@10 and Recall@``PAGE`` (a result page needs no beam
    sized for a deep list). (Instacart's valid keeps both deep-list scores at a quarter of the
    beam; Home Depot's loses 0.0068 Recall@350 at half: see docs/results.md, "The served beam".)"""
    deep = _scores_by_beam(searcher, examples, requests, (widest, widest // 2, widest // 4), RECALL_DEPTH)
    page = _scores_by_beam(searcher, examples, requests, (widest, widest // 2, widest // 4, widest // 8), PAGE)
    picked = {"beam": _narrowest(deep, BEAM_LOSS), "page_beam": _narrowest(page, PAGE_LOSS)}
    for name, scores in (("deep list", deep), ("page", page)):
        log(f"valid by beam, {name}: " + "; ".join(f"{beam}: " + ", ".join(f"{metric} {value:.4f}" for metric, value in score.items()) for beam, score in scores.items()))
    log(f"serving beam {picked['beam']}, page beam {picked['page_beam']}")
    return picked


def _scores_by_beam(searcher: PlannedSearcher, examples: list[Example], requests: list[SearchRequest], beams: Sequence[int], k: int) -> dict[int, dict[str, float]]:
    """Valid NDCG@10 and Recall@``k`` of lists of ``k`` items at each beam, widest first."""
    widest, scores = searcher.beam, {}
    for beam in beams:
        searcher.beam = max(1, beam)
        scores[searcher.beam] = _valid_scores(searcher, examples, requests, k)
    searcher.beam = widest
    return scores


def _narrowest(scores: dict[int, dict[str, float]], loss: dict[str, float]) -> int:
    """The narrowest beam whose every ``loss`` metric is at most that much below the widest's."""
    best = scores[max(scores)]
    return min(beam for beam, score in scores.items() if all(score[name] >= best[name] - loss[name] for name in loss))


def _query_vectors(encoder: Any, queries: Sequence[str], directory: Path) -> Callable[[list[str]], np.ndarray]:
    """Query text -> vector for ``queries`` (encoded once, through the cache)."""
    texts = sorted(set(queries))
    vectors = encode_cached(encoder, texts, "query", directory)
    known = {text: i for i, text in enumerate(texts)}
    return lambda batch: vectors[[known[t] for t in batch]]

