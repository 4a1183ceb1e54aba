"""Train examples of the anchored model: each one planned, with its targets and candidates.

Contract: ``training_set(parts, examples, requests, ...)`` turns train examples (with their
resolved requests) into ``PlannedExample``s: the query vector, the history rows, the request's
look-ahead plan (its own (last item, target) pairs left out of the next-item evidence), the target
rows with their gains and the candidate rows a deep depth is trained against (the plan, the
targets, the dense top items and ``random_negatives`` random items). ``pseudo_examples`` stands in
for logs a shop lacks (query-like cuts of titles), ``teacher_examples`` labels pseudo-queries with
another ranker's top items, ``transitions_of`` counts next items of the train split, ``co_buyers_of`` which user touched which
item there. Test examples
never come here.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from onesearch.catalog.context import ContextResolver
from onesearch.decoding.planned import PlanLike, dense_plan, selected, stand_ins, user_vectors
from onesearch.evidence.items import ItemTable
from onesearch.evidence.cobuy import CoBuyers
from onesearch.evidence.transitions import Transitions
from onesearch.generative.parts import LEXICAL_RANK, SearchParts
from onesearch.generative.recipe import evidence_columns
from onesearch.types import Example, SearchRequest, Target

__all__ = ["PSEUDO_PER_ITEM", "TEACHER_DEPTH", "PlannedExample", "Progress", "Rewarder", "Teacher", "co_buyers_of", "dense_top", "preference_lists", "pseudo_examples",
           "pseudo_queries", "teacher_examples", "training_set", "transitions_of"]

PSEUDO_PER_ITEM = 3  # pseudo-queries per item when the shop has no logs
TEACHER_DEPTH = 30  # a teacher-labelled pseudo-query's targets: the teacher's top items
Teacher = Callable[[list[str]], list[list[str]]]  # query texts -> each one's ranked item ids, best first
Rewarder = Callable[[list[SearchRequest]], list[list[tuple[str, float]]]]  # requests -> each one's (item id, reward), best first
_WORD = re.compile(r"\w[\w'.-]*")


@dataclass
class PlannedExample:
    """One planned train example (see module docstring)."""

    query: np.ndarray
    history: list[int]
    plan: PlanLike
    targets: np.ndarray
    gains: np.ndarray
    candidates: np.ndarray
    weight: float = 1.0


class Progress:
    """Counts units of work done towards ``total`` and tells ``advance`` (when given)."""

    def __init__(self, advance: Callable[[int, int], None] | None, total: int) -> None:
        self.advance, self.total, self.done = advance, total, 0

    def step(self) -> None:
        self.done += 1
        if self.advance is not None:
            self.advance(min(self.done, self.total), self.total)


def training_set(parts: SearchParts, examples: list[Example], requests: list[SearchRequest], query_of: Callable[[list[str]], np.ndarray], item_vectors: np.ndarray,
                  rng: random.Random, work: Progress | None = None, weights: dict[str, float] | None = None) -> list[PlannedExample]:
    """Plan, targets and candidates of every example with a positive gain; ``weights`` holds the
    loss weight of the examples whose weight is not 1 (by example id)."""
    recipe = parts.recipe
    queries = query_of([r.query for r in requests])
    histories = [[parts.items.row_of[e.item_id] for e in r.user.history if e.item_id in parts.items.row_of] for r in requests]
    if recipe.behaviour_query:
        users = user_vectors(histories, torch.from_numpy(np.asarray(item_vectors, dtype=np.float32)), recipe.recency_decay)
        stand = stand_ins([r.query for r in requests], users)
        if stand:
            queries[stand] = users[stand].numpy()
    dense = dense_top(queries, item_vectors, max(recipe.dense_negatives, recipe.dense_plan))
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
        own = {(before, int(r)) for before in history[-recipe.transition_window:] for r in rows}  # the example's own pairs: left out of its counts
        plan = parts.plan(request, dense[i][: recipe.dense_plan], own)
        if recipe.dense_plan:
            plan = dense_plan(plan, dense[i][: recipe.dense_plan], LEXICAL_RANK)
        plan = selected(plan, columns)
        noise = np.array([rng.randrange(len(parts.items)) for _ in range(recipe.random_negatives)], dtype=np.int64)
        candidates = np.unique(np.concatenate([plan.rows, rows, dense[i][: recipe.dense_negatives], noise]))
        weight = (weights or {}).get(example.example_id, 1.0)
        gains = np.array([g for _, g in targets], dtype=np.float32) ** np.float32(recipe.gain_power)
        out.append(PlannedExample(queries[i], history, plan, rows, gains, candidates, weight))
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


def preference_lists(items: ItemTable, requests: list[SearchRequest], rewarder: Rewarder, count: int, depth: int,
                     rng: random.Random) -> tuple[list[Example], list[SearchRequest]]:
    """The preference stage's lists for ``count`` requests: the given train ``requests`` (with
    their user context), then pseudo-queries cut from random items' texts (anonymous), each an
    example whose targets are the reward model's top ``depth`` items with their rewards as gains
    (at least 0). Requests the reward model finds nothing for are dropped."""
    chosen = list(requests[:count])
    rows = rng.sample(range(len(items)), min(len(items), count - len(chosen)))
    chosen += [SearchRequest(q) for row in rows for q in pseudo_queries(items.texts[row], [], 1, rng)]
    out, kept = [], []
    for n, (request, ranked) in enumerate(zip(chosen, rewarder(chosen))):
        targets = tuple(Target(item, max(0.0, reward), True) for item, reward in ranked[:depth])
        if any(t.gain > 0 for t in targets):
            out.append(Example(f"preference-{n}", "train", targets, request.query))
            kept.append(request)
    return out, kept


def transitions_of(items: ItemTable, examples: list[Example], resolver: ContextResolver, window: int = 1) -> Transitions | None:
    """Next-item counts of the train split (each of the last ``window`` history items -> each
    relevant target: 1 counts direct successors only); None when no train example has a history."""
    pairs = []
    for example in examples:
        if example.user_id is None:
            continue
        history = [e.item_id for e in resolver.request(example).user.history if e.item_id in items.row_of]
        if history:
            targets = [items.row_of[t.item_id] for t in example.targets if t.relevant and t.item_id in items.row_of]
            pairs += [(items.row_of[before], target) for before in dict.fromkeys(history[-window:]) for target in targets]
    return Transitions.fit(pairs) if pairs else None


def co_buyers_of(items: ItemTable, examples: list[Example]) -> CoBuyers | None:
    """Which train users touched which items (each user's relevant train targets); None when no
    train example names its user."""
    touched: dict[str, set[int]] = {}
    for example in examples:
        if example.user_id is not None:
            touched.setdefault(example.user_id, set()).update(items.row_of[t.item_id] for t in example.targets if t.relevant and t.item_id in items.row_of)
    return CoBuyers.fit(touched, len(items))


def dense_top(queries: np.ndarray, items: np.ndarray, k: int, chunk: int = 512) -> np.ndarray:
    """Rows of the ``k`` best items by inner product for each query."""
    out = []
    matrix = torch.from_numpy(np.asarray(items, dtype=np.float32))
    for start in range(0, len(queries), chunk):
        scores = torch.from_numpy(np.asarray(queries[start : start + chunk], dtype=np.float32)) @ matrix.T
        out.append(torch.topk(scores, min(k, len(items)), dim=1).indices.numpy())
    return np.concatenate(out) if out else np.zeros((0, k), dtype=np.int64)



def pseudo_queries(title: str, keywords: Sequence[str], count: int, rng: random.Random) -> list[str]:
    """``count`` query-like cuts of a title: a 1-4 word n-gram, led half the time by a keyword."""
    words = _WORD.findall(title.lower())
    out = []
    for _ in range(count if words else 0):
        length = rng.randint(1, min(4, len(words)))
        start = rng.randrange(len(words) - length + 1)
        text = " ".join(words[start : start + length])
        if keywords and rng.random() < 0.5:
            keyword = rng.choice(list(keywords)).lower()
            text = text if keyword in text else f"{keyword} {text}"
        out.append(text)
    return out
