"""The anchored model's recipe: what it was trained with and which evidence it reads.

Contract: ``AnchoredRecipe`` is a frozen dataclass saved in every model folder's manifest;
``AnchoredRecipe.from_settings(["KEY=VALUE", ...])`` builds one from ``--set`` overrides (TOML
values; an unknown key is one ``DataError``). ``evidence_columns(recipe)`` are the plan columns the
model reads, ``evidence_width(recipe)`` the width of its evidence input.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np

from onesearch.decoding.planned import DENSE
from onesearch.errors import DataError
from onesearch.evidence.plan import CO_BUY, EVIDENCE, LOG_RANKS, PAIRS, PRECEDERS, SHAPE, STATIC

PREFERENCE_FIELDS = ("preference", "dpo_")  # the preference stage's fields start so
PREFERENCE_LOSSES = ("listnet", "dpo")
QUERY_ENCODERS = ("full", "static")
NEXT_ITEM = ("ema=0.995", "transition_window=3", "recency_decay=0.5", "preceders=true", "lambda_weight=0.0", "shape_columns=false", "hidden=32", "co_buy=false")  # a task without train queries starts from these (picked on amazon-industrial and amazon-office valid; LambdaRank lost there; the shape columns, a wider evidence MLP and co-buyers gained nothing there)
BEFORE = {"query_encoder": "full", "static_find_weight": 0.0, "weight_decay": 0.0, "ema": 0.0, "recency_decay": 0.85, "preceders": False, "pick_beam": False, "lambda_weight": 0.0, "shape_columns": False, "co_buy": False, "gain_power": 1.0}  # fields added later, at the value recipes had before: left out of the hash

__all__ = ["NEXT_ITEM", "PREFERENCE_LOSSES", "QUERY_ENCODERS", "AnchoredRecipe", "apply_setting", "evidence_columns", "evidence_width"]


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
    weight_decay: float = 0.0  # AdamW's decoupled decay, towards the anchored start (every learned map starts at zero)
    ema: float = 0.0  # decay per step of an exponential moving average of the weights, which valid scores and the model keeps (0: off)
    hidden: int = 128  # width of the evidence MLP (valid: 64 over 32 NDCG@10 +0.0045 on Home Depot; 128 over 64 HR@10 +0.0116 on Home Depot, +0.0030 on Instacart)
    temperature: float = 0.05
    examples_per_epoch: int = 8_000
    max_train_examples: int = 24_000
    dense_negatives: int = 100  # dense top items among the deep depths' candidates (adds nothing up to dense_plan, whose items are planned)
    random_negatives: int = 3_000  # picked on amazon-industrial valid (HR@10 0.1273 vs 0.1192 with 1,000); Home Depot valid: 0.4725 vs 0.4720
    dense_plan: int = 300
    dense_evidence: bool = False
    prefix_weight: float = 0.5
    gain_power: float = 1.0  # training targets weigh a graded label's gain to this power (1: linear, as NDCG counts; above 1 favours the most relevant items)
    lambda_weight: float = 0.5  # weight of LambdaRank's NDCG-weighted pairs at the item depth beside the listwise loss (training.losses.lambda_loss; valid NDCG@10 +0.003 on Home Depot and Instacart)
    plan_depth: int = 300
    recency_decay: float = 0.85  # the behaviour vector's weight decay per step back in the user's history
    transition_window: int = 1  # next-item counts pair each target with the last N history items (1: direct successors)
    preceders: bool = False  # the plan also reads what came before the user's last items in train (PRECEDERS columns)
    shape_columns: bool = True  # the evidence MLP also reads the request's shape and the user's habits (SHAPE: query terms, history length, each item's gap since last touched and touch rate; valid NDCG@10 +0.008 on Instacart, +0.002 on Home Depot)
    co_buy: bool = True  # the plan also reads what other train users bought with the user's items (CO_BUY columns, and the top co-bought lexical matches as plan rows; Instacart valid, two seeds: NDCG@10 +0.0020 / +0.0088, HR@10 +0.0049 / +0.0143; off where no train example names its user)
    preference: int = 0  # preference stage: requests whose reward-ranked lists the SFT model learns next (0: no stage)
    preference_loss: str = "listnet"  # listnet (softmax cross-entropy against the rewards) or dpo (list-wise DPO against the SFT model)
    preference_epochs: int = 3
    preference_depth: int = 30  # the reward model's top items per request
    preference_weight: float = 1.0  # loss weight of a preference list beside a logged example
    dpo_beta: float = 1.0
    dpo_alpha: float = 0.1  # weight of the winner's own log-likelihood in the DPO loss
    query_encoder: str = "static"  # static: a token bag distilled from the item encoder's query tower (0.19x the cascade's CPU on Home Depot); full: that tower itself
    static_find_weight: float = 0.0  # the static encoder's contrastive loss towards the items a text finds (0.25 on Home Depot valid: NDCG@10 -0.0047, HR@10 +0.0104)
    beam: int = 400  # the widest beam; with ``pick_beam`` the served one may be narrower
    pick_beam: bool = True  # training picks the served beam on valid: the narrowest of beam/4, beam/2 and beam that loses no quality there (training.anchored.BEAM_LOSS)
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
        recipe = replace(cls(), **raw)
        if recipe.preference_loss not in PREFERENCE_LOSSES:
            raise DataError(f"preference_loss={recipe.preference_loss!r}: expected one of {', '.join(PREFERENCE_LOSSES)}")
        if recipe.query_encoder not in QUERY_ENCODERS:
            raise DataError(f"query_encoder={recipe.query_encoder!r}: expected one of {', '.join(QUERY_ENCODERS)}")
        return recipe

    @classmethod
    def saved(cls, raw: dict[str, Any]) -> AnchoredRecipe:
        """The recipe a model folder's manifest saved; a field it lacks was added after that model
        was trained, which then had the value recipes had before the field (``BEFORE``; the first
        switches: off)."""
        return cls(**{**BEFORE, "pair_coverage": False, "log_ranks": False, "behaviour_query": False, **raw})

    def supervised(self) -> AnchoredRecipe:
        """This recipe without its preference stage: the model the stage starts from."""
        return replace(self, **{f.name: f.default for f in fields(self) if f.name.startswith(PREFERENCE_FIELDS)})

    def fingerprint(self) -> str:
        """Short hash of the recipe (names the default model trained with it). A recipe without a
        preference stage hashes without the stage's fields, and a field of ``BEFORE`` at its value there
        is left out, so recipes hash as they did before those fields existed."""
        kept = {k: v for k, v in asdict(self).items() if (self.preference or not k.startswith(PREFERENCE_FIELDS)) and (k not in BEFORE or v != BEFORE[k])}
        return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()[:10]


def apply_setting(raw: dict[str, Any], setting: str) -> None:
    """Set ``KEY=VALUE`` in ``raw`` (VALUE parsed as TOML, else taken as a string)."""
    key, sep, value = setting.partition("=")
    if not sep or not key.strip():
        raise DataError(f"--set needs KEY=VALUE, got {setting!r}")
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    raw[key.strip()] = parsed


def evidence_columns(recipe: AnchoredRecipe) -> np.ndarray:
    """Indices of the evidence columns the recipe's model reads, of ``EVIDENCE`` followed (with a
    dense plan) by ``DENSE``: the word-pair, log-rank, preceder, shape and co-buy columns only when switched on."""
    names = (*EVIDENCE, *(DENSE if recipe.dense_plan else ()))
    off = {*(() if recipe.pair_coverage else PAIRS), *(() if recipe.log_ranks else (*LOG_RANKS, "dense_log_rank")), *(() if recipe.preceders else PRECEDERS), *(() if recipe.shape_columns else SHAPE), *(() if recipe.co_buy else CO_BUY)}
    return np.array([i for i, name in enumerate(names) if name not in off], dtype=np.int64)


def evidence_width(recipe: AnchoredRecipe) -> int:
    """Width of the model's evidence input: the static columns and the columns it reads."""
    return len(STATIC) + len(evidence_columns(recipe))
