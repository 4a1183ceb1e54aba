"""User contexts for benchmark examples, over both history forms of the canonical tables.

Contract: ``ContextResolver(dataset)`` turns an ``Example`` into the ``SearchRequest`` a searcher
sees: the query text and the user's past strictly before the example (its explicit ``history``,
or the user's interactions with ``seq < history_end``). Targets never leak into the request.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa

from onesearch.catalog.schema import Dataset
from onesearch.types import Example, HistoryEvent, InteractionType, SearchRequest, UserContext

__all__ = ["ContextResolver"]


class ContextResolver:
    """Builds requests for examples of one data set; interactions are indexed once per user."""

    def __init__(self, dataset: Dataset) -> None:
        self._profiles = {row["user_id"]: dict(row["profile"] or []) for row in dataset.users.to_pylist()}
        self._log = _UserLog(dataset.interactions)

    def request(self, example: Example) -> SearchRequest:
        """The query and user context of ``example``; empty context for anonymous examples."""
        if example.user_id is None:
            return SearchRequest(example.query or "")
        if example.history:
            history = example.history
        elif example.history_end is not None:
            history = self._log.before(example.user_id, example.history_end)
        else:
            history = ()
        user = UserContext(example.user_id, self._profiles.get(example.user_id, {}), history)
        return SearchRequest(example.query or "", user)

    def user(self, user_id: str) -> UserContext | None:
        """A known user's profile and whole stored history (None for an unknown user)."""
        if user_id not in self._profiles and user_id not in self._log.users:
            return None
        return UserContext(user_id, self._profiles.get(user_id, {}), self._log.before(user_id, np.iinfo(np.int64).max))

    def active_users(self, limit: int) -> list[str]:
        """Up to ``limit`` users with a stored history, most events first (ties by id)."""
        counts = sorted(((-len(seq), user) for user, seq in self._log.users.items()))
        return [user for _, user in counts[:limit]]

    def requests(self, examples: Iterable[Example]) -> list[SearchRequest]:
        """``request`` for each example, in order."""
        return [self.request(example) for example in examples]


class _UserLog:
    """Interactions grouped by user and sorted by ``seq``, sliced by a ``seq`` bound."""

    def __init__(self, interactions: pa.Table) -> None:
        frame = interactions.select(["user_id", "seq", "type", "item_id", "query"]).to_pandas()
        frame = frame.sort_values(["user_id", "seq"], kind="stable")
        self._seq: dict[str, np.ndarray] = {}
        self._events: dict[str, list[HistoryEvent]] = {}
        for user_id, group in frame.groupby("user_id", sort=False):
            self._seq[user_id] = group["seq"].to_numpy()
            self._events[user_id] = [
                HistoryEvent(_none(item), InteractionType(kind), int(seq), _none(query))
                for item, kind, seq, query in zip(group["item_id"], group["type"], group["seq"], group["query"])
            ]

    @property
    def users(self) -> dict[str, np.ndarray]:
        """Users with interactions (-> their sorted ``seq``)."""
        return self._seq

    def before(self, user_id: str, end: int) -> tuple[HistoryEvent, ...]:
        """The user's events with ``seq < end``, oldest first."""
        seq = self._seq.get(user_id)
        if seq is None:
            return ()
        return tuple(self._events[user_id][: int(np.searchsorted(seq, end, side="left"))])


def _none(value: object) -> str | None:
    return None if value is None or value != value else str(value)
