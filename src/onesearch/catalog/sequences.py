"""Examples for next-item tasks whose rows carry an explicit history (RecBole, MiniOneRec).

Contract: ``sequence_examples`` turns (user, history item ids oldest first, target item id)
rows into canonical example rows; ``prefix_examples`` rebuilds training rows from history
prefixes only (each predicts a history item from the items before it), so nothing after a
row's own history can reach training. Duplicate (user, prefix, target) rows are kept once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyarrow as pa

from onesearch.catalog.schema import EXAMPLES, build_table

__all__ = ["SequenceRow", "prefix_examples", "sequence_examples"]


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
