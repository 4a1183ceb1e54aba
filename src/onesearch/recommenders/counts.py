"""Count models: popularity, and next-item counts backed off to popularity.

Contract: both are ``types.Searcher``s fitted on train pairs only (``Sequences.pairs``).
``PopularSearcher`` ranks every request's items by train popularity. ``NextItemSearcher``
ranks the items that followed the request's last ``transitions.WINDOW`` known history items in
train (the last item weighs 1, the one before 1/2, then 1/4; log counts), then fills the list in
popularity order; a request without a known history item gets the popularity list.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from onesearch.evidence.transitions import WINDOW, Transitions
from onesearch.recommenders.sequences import Sequences, TrainPair, top_hits
from onesearch.types import Hit, SearchRequest

__all__ = ["NextItemSearcher", "PopularSearcher"]


class PopularSearcher:
    """The most popular train targets, the same list for everyone."""

    name = "popularity"

    def __init__(self, sequences: Sequences, pairs: Sequence[TrainPair]) -> None:
        self.sequences = sequences
        self.scores = sequences.popularity(pairs)

    def search(self, requests: Sequence[SearchRequest], k: int) -> list[list[Hit]]:
        hits = top_hits(self.sequences.ids, self.scores, k)
        return [list(hits) for _ in requests]


class NextItemSearcher:
    """What followed the user's last items in train, then the popular items."""

    name = "next-item"

    def __init__(self, sequences: Sequences, pairs: Sequence[TrainPair]) -> None:
        self.sequences = sequences
        self.popular = PopularSearcher(sequences, pairs)
        self.transitions = Transitions.fit((pair.history[-1], target) for pair in pairs if pair.history for target in pair.targets)
        # popularity breaks ties and fills the list: at most 0.1, below any follower's score (>= log(2) / 4)
        self._fallback = 0.1 * self.popular.scores / (self.popular.scores.max(initial=0.0) + 1.0)

    def search(self, requests: Sequence[SearchRequest], k: int) -> list[list[Hit]]:
        out = []
        for request in requests:
            rows, follow = self.transitions.followers(self.sequences.history(request)[-WINDOW:])
            scores = self._fallback + np.bincount(rows, weights=follow, minlength=len(self._fallback)) if len(rows) else self._fallback
            out.append(top_hits(self.sequences.ids, scores, k))
        return out
