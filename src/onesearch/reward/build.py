"""Build (or reuse) the reward model of a task from its train split.

Contract: ``build_reward(dataset, cascade, directory, settings)`` returns a ready
``RewardModel``; its artifacts live in ``directory/reward-<encoder>`` (the cross-encoder in
``cross/``, the booster and calibration per feature set), each written atomically, so a stopped
run resumes. Train queries are split in two folds by a stable hash of the example id: the cross
fold fine-tunes the cross-encoder (judged items against unjudged pre-rank candidates), the stack
fold trains the booster over the cascade's features plus the cross-encoder's score, so the
booster never sees the cross-encoder's score of a pair it was trained on. Valid queries stop the
booster early and are never trained on; test is never read.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from onesearch.artifacts import atomic_directory, write_manifest
from onesearch.cascade.engine import Cascade
from onesearch.cascade.ltr import QueryLists, RankerConfig, fit_stage, graded_labels
from onesearch.catalog.context import ContextResolver
from onesearch.catalog.schema import Dataset, examples_of
from onesearch.reward.cross import CrossConfig, CrossScorer, Group, fine_tune_cross
from onesearch.reward.model import REWARD_FEATURES, Calibration, RewardModel, prerank_order, reward_columns
from onesearch.types import Example, SearchRequest

__all__ = ["RewardSettings", "build_reward", "reward_directory"]

Log = Callable[[str], None]


@dataclass(frozen=True)
class RewardSettings:
    """What the reward model is built from; saved with it."""

    behaviour: bool = True
    cross_queries: int = 1_500
    negatives: int = 8
    stack_queries: int = 800
    valid_queries: int = 200
    depth: int = 50
    cross: CrossConfig = CrossConfig()
    booster: RankerConfig = RankerConfig(trees=300, leaves=15)
    seed: int = 0


def build_reward(dataset: Dataset, cascade: Cascade, directory: Path, settings: RewardSettings = RewardSettings(), log: Log = print) -> RewardModel:
    """The task's reward model over ``cascade``, building whatever ``directory`` lacks."""
    import lightgbm as lgb

    cross_dir, booster_dir = _folders(reward_directory(directory, cascade.encoder.key), settings)
    examples = [e for e in examples_of(dataset.examples) if e.split == "train" and e.query and any(t.gain > 0 for t in e.targets)]
    resolver = ContextResolver(dataset)
    rng = random.Random(settings.seed)
    if not (cross_dir / "manifest.json").is_file():
        fold = [e for e in examples if not _stack_fold(e)]
        sample = rng.sample(fold, min(len(fold), settings.cross_queries))
        log(f"reward model: fine-tuning the cross-encoder on {len(sample):,} train queries (judged items against {settings.negatives} unjudged pre-rank candidates)")
        fine_tune_cross(_groups(cascade, sample, resolver.requests(sample), settings, rng), cross_dir, settings.cross, log=log)
    cross = CrossScorer(cross_dir)
    if not (booster_dir / "booster.txt").is_file():
        _train_booster(dataset, cascade, cross, examples, resolver, booster_dir, settings, random.Random(settings.seed + 1), log)
    calibration = json.loads((booster_dir / "calibration.json").read_text(encoding="utf-8"))
    booster = lgb.Booster(model_file=str(booster_dir / "booster.txt"))
    return RewardModel(cascade, cross, booster, Calibration(tuple(calibration["knots"]), tuple(calibration["gains"])), booster_dir,
                       settings.behaviour, settings.depth)


def reward_directory(directory: Path, encoder: str) -> Path:
    """The reward models' folder under the cascade folder."""
    return Path(directory) / f"reward-{encoder}"


def _variant(name: str, fields: dict[str, object], defaults: dict[str, object]) -> str:
    """``name``, with a hash of ``fields`` appended when they differ from ``defaults``."""
    return name if fields == defaults else f"{name}-{hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:8]}"


def _folders(root: Path, settings: RewardSettings) -> tuple[Path, Path]:
    """(cross-encoder folder, booster folder) of ``settings``: the default names for the default
    settings, a hash of the settings each depends on otherwise, so variants never overwrite each other."""
    default = asdict(RewardSettings())
    mine = asdict(settings)
    cross_keys = ("cross_queries", "negatives", "cross", "seed")
    cross = _variant("cross", {k: mine[k] for k in cross_keys}, {k: default[k] for k in cross_keys})
    booster_name = "booster" if settings.behaviour else "booster-relevance"
    rest = {k: v for k, v in mine.items() if k != "behaviour"}
    booster = _variant(booster_name, rest, {k: v for k, v in default.items() if k != "behaviour"})
    return root / cross, root / booster


def _stack_fold(example: Example) -> bool:
    """True for the quarter of train queries that train the booster (stable across runs)."""
    return int(hashlib.sha256(example.example_id.encode()).hexdigest()[:8], 16) % 4 == 0


def _groups(cascade: Cascade, examples: list[Example], requests: list[SearchRequest], settings: RewardSettings, rng: random.Random) -> list[Group]:
    """Each example's judged items (with their gains) plus unjudged candidates from the pre-rank top."""
    groups = []
    for example, request, channels in zip(examples, requests, cascade.recall(requests)):
        gains = {t.item_id: t.gain for t in example.targets if t.item_id in cascade.items.row_of}
        order, _ = prerank_order(cascade, request, channels)
        unjudged = [int(r) for r in channels.rows[order[: settings.depth]] if cascade.items.ids[r] not in gains]
        negatives = rng.sample(unjudged, min(settings.negatives, len(unjudged)))
        texts = [cascade.items.texts[cascade.items.row_of[i]] for i in gains] + [cascade.items.texts[r] for r in negatives]
        groups.append(Group(request.query, tuple(texts), (*gains.values(), *([0.0] * len(negatives)))))
    return groups


def _lists(cascade: Cascade, cross: CrossScorer, examples: list[Example], requests: list[SearchRequest], depth: int, leave_one_out: bool) -> tuple[QueryLists, list[np.ndarray]]:
    """Reward features and graded labels of each example's pre-rank top ``depth``, and the gains."""
    features, labels, gains_of = [], [], []
    for example, request, channels in zip(examples, requests, cascade.recall(requests)):
        gain = {cascade.items.row_of[t.item_id]: t.gain for t in example.targets if t.item_id in cascade.items.row_of}
        own = frozenset(gain) if leave_one_out else frozenset()
        order, matrix = prerank_order(cascade, request, channels, own)
        top = order[:depth]
        rows = channels.rows[top]
        gains = np.array([gain.get(int(r), 0.0) for r in rows], dtype=np.float32)
        if not gains.any():
            continue
        score = cross.score(request.query, [cascade.items.texts[r] for r in rows])
        features.append(np.concatenate([matrix[top], score[:, None]], axis=1))
        labels.append(graded_labels(gains))
        gains_of.append(gains)
    return QueryLists(features, labels), gains_of


def _train_booster(dataset: Dataset, cascade: Cascade, cross: CrossScorer, examples: list[Example], resolver: ContextResolver, out: Path,
                   settings: RewardSettings, rng: random.Random, log: Log) -> None:
    """Fit the booster on the stack fold (early-stopped on valid), calibrate it and save both."""
    valid = [e for e in examples_of(dataset.examples) if e.split == "valid" and e.query]
    valid = rng.sample(valid, min(len(valid), settings.valid_queries))
    stack = [e for e in examples if _stack_fold(e)]
    stack = rng.sample(stack, min(len(stack), settings.stack_queries))
    log(f"reward model: scoring the pre-rank top {settings.depth} of {len(stack):,} stack-fold train and {len(valid):,} valid queries with the cross-encoder")
    train_lists, train_gains = _lists(cascade, cross, stack, resolver.requests(stack), settings.depth, leave_one_out=True)
    valid_lists, _ = _lists(cascade, cross, valid, resolver.requests(valid), settings.depth, leave_one_out=False)
    columns = reward_columns(settings.behaviour)
    booster = fit_stage(train_lists, valid_lists, columns, settings.booster)
    scores = np.concatenate([booster.predict(f[:, columns], num_iteration=booster.best_iteration) for f in train_lists.features])
    calibration = Calibration.fit(scores, np.concatenate(train_gains))
    importance = dict(zip([REWARD_FEATURES[c] for c in columns], booster.feature_importance("gain").round(1).tolist()))
    log(f"reward booster: {booster.best_iteration} trees, valid NDCG@10 {booster.best_score['valid_0']['ndcg@10']:.4f}; gain importance {json.dumps(importance)}")
    with atomic_directory(out) as tmp:
        booster.save_model(str(tmp / "booster.txt"), num_iteration=booster.best_iteration)
        (tmp / "calibration.json").write_text(json.dumps(asdict(calibration)) + "\n", encoding="utf-8")
        write_manifest(tmp, "reward-booster", config={"settings": json.loads(json.dumps(asdict(settings), default=str))}, inputs={},
                       train_queries=len(train_lists.features), valid_queries=len(valid_lists.features), importance=importance,
                       valid_ndcg10=booster.best_score["valid_0"]["ndcg@10"])
