"""``cascade+reward``: the cascade with the reward model as its last stage.

Contract: ``RewardSearcher(reward).search(requests, k)`` answers like every searcher: at most
``k`` distinct catalog items per request, best first — the cascade's pre-rank top ``depth``
re-ranked by the reward model, then the rest of recall in pre-rank order. It is the quality
ceiling the generative searcher is distilled towards, and it costs a cross-encoder pass over
``depth`` items per request.
"""

from __future__ import annotations

from collections.abc import Sequence

from onesearch.reward.model import RewardModel
from onesearch.threads import for_batch
from onesearch.types import Hit, SearchRequest

__all__ = ["RewardSearcher"]


class RewardSearcher:
    """The cascade re-ranked by a reward model."""

    name = "cascade+reward"

    def __init__(self, reward: RewardModel) -> None:
        self.reward = reward

    def search(self, requests: Sequence[SearchRequest], k: int) -> list[list[Hit]]:
        ids = self.reward.cascade.items.ids
        with for_batch(len(requests)):
            return [[Hit(ids[r], float(s)) for r, s in zip(scored.rows[:k], scored.rewards[:k])] for scored in self.reward.score(requests)]
