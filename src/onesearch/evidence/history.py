"""A user's recent items: the last known items of a request's history, for the behaviour vector
and the next-item counts.

Contract: ``recent_rows(history, row_of, count)`` returns the rows (``row_of``: item id -> row)
of the last ``count`` history events whose item ``row_of`` knows, oldest first; events without
an item or with an unknown one are skipped. It reads from the end, so a long history costs no
more than a short one. Depends on ``types`` only, so decoding may use it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from onesearch.types import HistoryEvent

__all__ = ["recent_rows"]


def recent_rows(history: Sequence[HistoryEvent], row_of: Mapping[str, int], count: int) -> list[int]:
    """Rows of the last ``count`` known history items, oldest first (see module docstring)."""
    rows: list[int] = []
    for event in reversed(history):
        row = row_of.get(event.item_id) if event.item_id is not None else None
        if row is not None:
            rows.append(row)
            if len(rows) == count:
                break
    return rows[::-1]
