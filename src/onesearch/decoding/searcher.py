"""``GenerativeSearcher``: query text -> frozen encoder -> code decoder -> trie-constrained beam
-> items. Every hit is a real catalog item (its full code is a path of the trie).

Contract: built from already-trained parts (text encoder, decoder, item full codes); implements
``types.Searcher``. Scores are the beam's summed log-probabilities; at most ``beam`` hits come
back, so ask for ``beam >= k``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from onesearch.decoding.beam import beam_search
from onesearch.decoding.trie import SidTrie
from onesearch.types import Hit, SearchRequest

__all__ = ["GenerativeSearcher"]


class GenerativeSearcher:
    """The one-model searcher (query view only for now)."""

    name = "generative"

    def __init__(self, token_states: Callable[[list[str]], tuple[torch.Tensor, torch.Tensor]], model, item_ids: Sequence[str], full_codes: np.ndarray, beam: int = 50) -> None:  # type: ignore[no-untyped-def]
        self.token_states = token_states
        self.model = model
        self.trie = SidTrie(full_codes, model.config.code_sizes)
        self.item_of = {tuple(int(v) for v in code): item for code, item in zip(np.asarray(full_codes).tolist(), item_ids)}
        self.beam = beam

    def search(self, requests: Sequence[SearchRequest], k: int) -> list[list[Hit]]:
        memory, padding = self.token_states([r.query for r in requests])
        device = next(self.model.parameters()).device
        with torch.no_grad():
            state = self.model.start(memory.to(device).float(), padding.to(device))
            beams = beam_search(self.model, state, len(requests), self.trie, self.beam)
        return [[Hit(self.item_of[code], score) for code, score in found][:k] for found in beams]
