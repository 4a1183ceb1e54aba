"""The leakage audit: each check catches a planted leak, and a clean split reads 0."""

from __future__ import annotations

from onesearch.evaluation.leakage import audit
from onesearch.types import Example, HistoryEvent, InteractionType, Target


def _example(example_id: str, split: str, target: str, history: tuple[str, ...] = (), user: str | None = "u1",
             query: str | None = None, end: int | None = None) -> Example:
    events = tuple(HistoryEvent(item, InteractionType.ORDER) for item in history)
    return Example(example_id, split, (Target(target, 1.0, True),), query, user, events, end)


def test_clean_prefix_training_reads_zero():
    train = [_example("t0", "train", "b", ("a",)), _example("t1", "train", "c", ("a", "b"))]
    evaluated = [_example("e0", "test", "d", ("a", "b", "c")), _example("e1", "test", "e", ("a", "b", "c", "d"))]
    result = audit(train, evaluated, query_split=False)
    assert (result.verbatim, result.future, result.shared_queries, result.first) == (0, 0, 0, None)


def test_a_train_copy_of_an_evaluated_example_is_verbatim():
    evaluated = [_example("e0", "test", "d", ("a", "b", "c"))]
    result = audit([_example("t0", "train", "d", ("a", "b", "c"))], evaluated, query_split=False)
    assert result.verbatim == 1 and result.first.startswith("e0 ")


def test_a_train_row_past_the_evaluated_step_is_future():
    # sliding windows: a later row's history holds the evaluated target d right after c
    evaluated = [_example("e0", "test", "d", ("a", "b", "c"))]
    result = audit([_example("t0", "train", "e", ("b", "c", "d"))], evaluated, query_split=False)
    assert (result.verbatim, result.future) == (0, 1)
    # another user's identical row is no leak for this user
    assert audit([_example("t0", "train", "e", ("b", "c", "d"), user="u2")], evaluated, query_split=False).leaks == 0


def test_logged_users_leak_when_a_train_history_reaches_past_the_evaluated_one():
    evaluated = [_example("e0", "valid", "x", user="u1", end=10)]
    assert audit([_example("t0", "train", "y", user="u1", end=5)], evaluated, query_split=False).leaks == 0
    assert audit([_example("t0", "train", "y", user="u1", end=12)], evaluated, query_split=False).future == 1
    assert audit([_example("t0", "train", "x", user="u1", end=10)], evaluated, query_split=False).leaks >= 1


def test_shared_query_texts_count_only_for_query_split_tasks():
    train = [_example("t0", "train", "a", user=None, query="Red  Shoes")]
    evaluated = [_example("e0", "test", "b", user=None, query="red shoes")]
    assert audit(train, evaluated, query_split=True).shared_queries == 1
    assert audit(train, evaluated, query_split=False).leaks == 0
