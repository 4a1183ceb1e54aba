"""``teacher_examples``: what distillation learns from; ``pseudo_queries``: title cuts for shops without logs."""

from __future__ import annotations

import math
import random

import pyarrow as pa

from onesearch.evidence.items import ItemTable
from onesearch.evidence.tokenize import Tokenizer
from onesearch.training.examples import TEACHER_DEPTH, preference_lists, pseudo_queries, teacher_examples, transitions_of
from onesearch.types import Example, HistoryEvent, InteractionType, SearchRequest, Target, UserContext


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


class _Resolver:
    """Requests whose history is the example's own (what ``ContextResolver`` gives for explicit histories)."""

    def request(self, example: Example) -> SearchRequest:
        return SearchRequest("", UserContext(example.user_id, {}, example.history))


def test_next_item_counts_pair_each_target_with_the_last_window_history_items():
    items = _items(["a", "b", "c", "d"])
    history = tuple(HistoryEvent(f"i{n}", InteractionType.ORDER, n) for n in range(3))  # i0, i1, i2
    examples = [Example("e", "train", (Target("i3", 1.0, True),), None, "u", history=history), Example("anonymous", "train", (Target("i3", 1.0, True),), "q")]
    direct = transitions_of(items, examples, _Resolver())
    assert direct is not None and direct.to_array().tolist() == [[2, 3, 1]]
    skips = transitions_of(items, examples, _Resolver(), window=2)
    assert skips is not None and sorted(skips.to_array().tolist()) == [[1, 3, 1], [2, 3, 1]]
    assert transitions_of(items, examples[1:], _Resolver()) is None


def test_preference_lists_keep_the_train_requests_then_add_pseudo_queries_with_rewards_as_gains():
    items = _items(["red cotton shirt", "blue wool hat", "green leather boots", "black leather bag"])
    user = UserContext("u1", history=(HistoryEvent("i0", InteractionType.ORDER, 1),))
    asked: list[SearchRequest] = []

    def rewarder(requests: list[SearchRequest]) -> list[list[tuple[str, float]]]:
        asked.extend(requests)
        return [[("i2", 1.5), ("i3", -0.2), ("i1", 0.1)] if r.user.history or "leather" in r.query else [("i1", 0.0)] for r in requests]

    examples, requests = preference_lists(items, [SearchRequest("boots", user)], rewarder, 3, 2, random.Random(0))
    assert len(asked) == 3 and asked[0].user == user and all(not r.user.history for r in asked[1:])
    assert requests[0] == asked[0] and [r.query for r in requests] == [e.query for e in examples]
    assert [(t.item_id, t.gain) for t in examples[0].targets] == [("i2", 1.5), ("i3", 0.0)]  # depth 2, negative rewards floored at 0
    assert all(any(t.gain > 0 for t in e.targets) for e in examples)  # a list without a positive reward teaches nothing
