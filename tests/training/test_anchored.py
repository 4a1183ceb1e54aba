"""``evidence_columns``: which plan columns a recipe's model reads; ``teacher_examples``: what distillation learns from."""

from __future__ import annotations

import math
import random

import pyarrow as pa
import torch

from onesearch.decoding.planned import DENSE
from onesearch.evidence.items import ItemTable
from onesearch.evidence.plan import EVIDENCE
from onesearch.evidence.tokenize import Tokenizer
from onesearch.training.anchored import TEACHER_DEPTH, AnchoredRecipe, evidence_columns, listwise_loss, teacher_examples

BEFORE_SWITCHES = (
    "bm25_share", "bm25_log", "bm25_reciprocal_rank", "term_coverage", "phrase_match", "ngram_share", "ngram_reciprocal_rank",
    "user_count", "user_recency", "user_click", "user_cart", "user_order", "user_leaf_share", "user_brand_share", "next_item", "next_item_rank",
    "dense_reciprocal_rank", "fused_rank",
)


def _names(recipe: AnchoredRecipe) -> tuple[str, ...]:
    names = (*EVIDENCE, *DENSE)
    return tuple(names[i] for i in evidence_columns(recipe))


def test_with_both_switches_off_a_model_reads_the_columns_of_the_models_trained_before_them():
    assert _names(AnchoredRecipe(pair_coverage=False, log_ranks=False)) == BEFORE_SWITCHES


def test_the_switches_add_their_columns_in_place():
    both = _names(AnchoredRecipe(pair_coverage=True, log_ranks=True))
    assert both == (*EVIDENCE, *DENSE)
    pairs = _names(AnchoredRecipe(pair_coverage=True, log_ranks=False))
    assert "bigram_coverage" in pairs and not any(name.endswith("log_rank") for name in pairs)


def test_without_a_dense_plan_no_dense_column_is_read():
    assert not set(_names(AnchoredRecipe(dense_plan=0, log_ranks=True))) & set(DENSE)


def _items(titles: list[str]) -> ItemTable:
    table = pa.table({"item_id": [f"i{n}" for n in range(len(titles))], "title": titles, "brand": [None] * len(titles), "category": [None] * len(titles)})
    return ItemTable.from_items(table, Tokenizer("en"))


def test_teacher_examples_are_title_cuts_labelled_by_the_teachers_ranking_with_falling_gains():
    items = _items(["red cotton shirt", "blue wool hat", "green leather boots", "black leather bag"])
    asked: list[str] = []

    def teacher(queries: list[str]) -> list[list[str]]:
        asked.extend(queries)
        return [[f"i{n}" for n in range(40)] if "leather" in q else [] for q in queries]

    examples = teacher_examples(items, teacher, 3, random.Random(0))
    assert len(asked) == 3 and all(any(q in text for text in items.texts) for q in asked)
    assert [e.query for e in examples] == [q for q in asked if "leather" in q]
    for example in examples:
        assert example.split == "train" and len(example.targets) == TEACHER_DEPTH and all(t.relevant for t in example.targets)
        gains = [t.gain for t in example.targets]
        assert gains[0] == 1.0 and math.isclose(gains[1], 1 / math.log2(3)) and gains == sorted(gains, reverse=True)


def test_the_listwise_loss_weights_each_example_and_skips_those_without_gain():
    scores = torch.tensor([[2.0, 0.0, float("-inf")], [0.0, 1.0, 3.0], [1.0, 1.0, 1.0]])
    gains = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.0, 0.0, 0.0]])
    mask = torch.tensor([[True, True, False], [True, True, True], [True, True, True]])
    each = [-torch.log_softmax(torch.tensor([2.0, 0.0]), 0)[0], -(0.5 * torch.log_softmax(scores[1], 0)[1:]).sum()]
    assert torch.isclose(listwise_loss(scores, gains, mask, torch.ones(3)), (each[0] + each[1]) / 2)
    assert torch.isclose(listwise_loss(scores, gains, mask, torch.tensor([1.0, 0.0, 7.0])), each[0] / 2)
    assert listwise_loss(scores, torch.zeros(3, 3), mask, torch.ones(3)) == 0.0
