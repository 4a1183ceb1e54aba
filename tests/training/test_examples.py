"""``teacher_examples``: what distillation learns from; ``pseudo_queries``: title cuts for shops without logs."""

from __future__ import annotations

import math
import random

import pyarrow as pa

from onesearch.evidence.items import ItemTable
from onesearch.evidence.tokenize import Tokenizer
from onesearch.training.examples import TEACHER_DEPTH, pseudo_queries, teacher_examples


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


def test_pseudo_queries_are_cuts_of_the_title():
    rng = random.Random(0)
    queries = pseudo_queries("Acme Red Leather Boots size 9", ["acme"], 20, rng)
    words = set("acme red leather boots size 9".split())
    assert len(queries) == 20 and all(set(q.split()) <= words for q in queries)
    assert any(q.startswith("acme ") for q in queries) and pseudo_queries("", ["acme"], 3, rng) == []
