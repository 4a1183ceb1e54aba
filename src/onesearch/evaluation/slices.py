"""Traffic and cold-start slices of benchmark examples, defined from the train split only.

Contract: ``Slicer(train_examples)`` labels any example with three slices:

- ``query``: head / torso / tail by the train frequency of its normalized query text. Train
  queries are ranked by frequency; head is the most frequent ones that carry the first
  ``HEAD_SHARE`` of train traffic, torso the next ``TORSO_SHARE``, tail the rest and every query
  unseen in train (so a split by query makes all test queries tail).
- ``user``: warm when the user has a train example, cold when not, anonymous without a user.
- ``item``: warm when every relevant target was a relevant target of some train example, cold
  when none was, mixed otherwise.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from onesearch.catalog.text import normalize_query
from onesearch.types import Example

__all__ = ["HEAD_SHARE", "SLICES", "TORSO_SHARE", "Slicer"]

HEAD_SHARE = 0.5
TORSO_SHARE = 0.3
SLICES = {"query": ("head", "torso", "tail"), "user": ("warm", "cold", "anonymous"), "item": ("warm", "mixed", "cold")}


class Slicer:
    """Slice labels from train-split statistics."""

    def __init__(self, train_examples: Iterable[Example]) -> None:
        frequency: Counter[str] = Counter()
        self._users: set[str] = set()
        self._items: set[str] = set()
        for example in train_examples:
            if example.query:
                frequency[normalize_query(example.query)] += 1
            if example.user_id is not None:
                self._users.add(example.user_id)
            self._items.update(t.item_id for t in example.targets if t.relevant)
        self._band = _bands(frequency)

    def labels(self, example: Example) -> dict[str, str]:
        """``{"query": ..., "user": ..., "item": ...}`` for one example."""
        query = self._band.get(normalize_query(example.query or ""), "tail")
        user = "anonymous" if example.user_id is None else "warm" if example.user_id in self._users else "cold"
        relevant = [t.item_id in self._items for t in example.targets if t.relevant]
        item = "warm" if relevant and all(relevant) else "cold" if not any(relevant) else "mixed"
        return {"query": query, "user": user, "item": item}


def _bands(frequency: Counter[str]) -> dict[str, str]:
    total = sum(frequency.values())
    band: dict[str, str] = {}
    carried = 0
    for query, count in sorted(frequency.items(), key=lambda pair: (-pair[1], pair[0])):
        share = carried / total
        band[query] = "head" if share < HEAD_SHARE else "torso" if share < HEAD_SHARE + TORSO_SHARE else "tail"
        carried += count
    return band
