"""Examples for next-item tasks whose rows carry an explicit history (RecBole, MiniOneRec).

Contract: ``sequence_examples`` turns (user, history item ids oldest first, target item id)
rows into canonical example rows; ``prefix_examples`` rebuilds training rows from history
prefixes (each predicts a history item from the items before it). Duplicate (user, prefix,
target) rows are kept once.

``whole_sequences(rows)`` is every step of rows whose user is not evaluated at all (history[:j]
-> history[j], and the row itself), for training users.

``leak_free_prefixes(evaluated)`` is the protocol for files that publish only evaluated rows
(sliding windows over each user's sequence, so a later row's history holds the earlier rows'
targets): a user's train rows are the prefixes of the history of that user's *first* evaluated
row, cut before the first item any evaluated row of the user asks for. So no train row holds an
interaction that a valid or test row of the same user evaluates, nor anything after it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyarrow as pa

from onesearch.catalog.schema import EXAMPLES, build_table

__all__ = ["SequenceRow", "leak_free_prefixes", "prefix_examples", "sequence_examples", "whole_sequences"]


@dataclass(frozen=True)
class SequenceRow:
    """One next-item case: ``history`` oldest first."""

    user_id: str
    history: tuple[str, ...]
    target: str


def sequence_examples(
    rows: Sequence[SequenceRow],
    split: str,
    prefix: str,
    event_type: str,
    query_of: Callable[[str], str | None] = lambda _: None,
) -> pa.Table:
    """Canonical examples for ``rows`` (ids ``<prefix>-<split>-<n>``); ``query_of(target)`` gives the query."""
    return build_table(
        EXAMPLES,
        {
            "example_id": [f"{prefix}-{split}-{n}" for n in range(len(rows))],
            "split": [split] * len(rows),
            "query": [query_of(row.target) for row in rows],
            "user_id": [row.user_id for row in rows],
            "history": [[{"item_id": i, "type": event_type} for i in row.history] for row in rows],
            "targets": [[{"item_id": row.target, "gain": 1.0, "relevant": True}] for row in rows],
        },
    )


def prefix_examples(rows: Sequence[SequenceRow]) -> list[SequenceRow]:
    """Every (history[:j] -> history[j]) for j >= 1, deduplicated, in first-seen order."""
    seen: dict[SequenceRow, None] = {}
    for row in rows:
        for j in range(1, len(row.history)):
            seen.setdefault(SequenceRow(row.user_id, row.history[:j], row.history[j]), None)
    return list(seen)


def leak_free_prefixes(evaluated: Sequence[SequenceRow]) -> list[SequenceRow]:
    """Train rows from the evaluated rows, oldest first per user (see module docstring)."""
    asked: dict[str, set[str]] = {}
    first: dict[str, SequenceRow] = {}
    for row in evaluated:
        asked.setdefault(row.user_id, set()).add(row.target)
        first.setdefault(row.user_id, row)
    kept = []
    for user, row in first.items():
        history: list[str] = []
        for item in row.history:
            if item in asked[user]:
                break
            history.append(item)
        kept.append(SequenceRow(user, tuple(history), row.target))
    return prefix_examples(kept)


def whole_sequences(rows: Sequence[SequenceRow]) -> list[SequenceRow]:
    """Every step of ``rows`` (history prefixes and the row's own target), deduplicated."""
    return prefix_examples([SequenceRow(row.user_id, (*row.history, row.target), row.target) for row in rows])
