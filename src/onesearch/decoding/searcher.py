"""``GenerativeSearcher``: query + user context -> text input + input views -> code decoder ->
trie-constrained beam -> items. Every hit is a real catalog item (its full code is a trie path).

Contract: built from already-trained parts (the text input — a frozen encoder's ``token_states``
or, for a model with its own text encoder, its tokenizer's ``ids`` —, decoder, item full codes,
and — when the model reads them — a ``ContextBuilder`` for the user views and a text coder for
the query-code view, which gets the pooled states, or None for token ids); implements
``types.Searcher``. Scores are the beam's summed log-probabilities; at most
``beam`` distinct items come back, so ask for ``beam >= k``. ``kv_cache=False`` decodes with the
plain re-run-the-prefix stepper (same results, for benchmarks and tests).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Mapping, Sequence

import numpy as np
import torch

from onesearch.decoding.beam import beam_search
from onesearch.decoding.trie import SidTrie
from onesearch.model.inputs import ContextBuilder, pooled, recent_queries
from onesearch.model.transformer import CodeDecoder
from onesearch.types import Hit, SearchRequest

__all__ = ["GenerativeSearcher"]

TokenStates = Callable[[list[str]], tuple[torch.Tensor, torch.Tensor]]
TextCodes = Callable[[list[str], np.ndarray | None], np.ndarray]


class GenerativeSearcher:
    """The one-model searcher."""

    name = "generative"

    def __init__(
        self,
        token_states: TokenStates,
        model: CodeDecoder,
        item_ids: Sequence[str],
        full_codes: np.ndarray,
        beam: int = 50,
        builder: ContextBuilder | None = None,
        query_codes: TextCodes | None = None,
        kv_cache: bool = True,
    ) -> None:
        if model.config.views.query_code and query_codes is None:
            raise ValueError("this model reads the query's code: pass query_codes")
        self.token_states = token_states
        self.model = model
        self.trie = SidTrie(full_codes, model.config.code_sizes)
        self.item_of = {tuple(int(v) for v in code): item for code, item in zip(np.asarray(full_codes).tolist(), item_ids)}
        self.code_of = {item: code for code, item in self.item_of.items()}
        self.beam = beam
        self.builder = builder
        self.query_codes = query_codes
        self.kv_cache = kv_cache

    def search(self, requests: Sequence[SearchRequest], k: int) -> list[list[Hit]]:
        device = next(self.model.parameters()).device
        queries = [r.query for r in requests]
        text, padding = self.token_states(queries)
        text, padding = text.to(device), padding.to(device)
        if text.is_floating_point():
            text = text.float()
        with torch.no_grad():
            context, recent = None, None
            if self.builder is not None:
                vectors = pooled(text, padding).cpu().numpy() if text.is_floating_point() else None
                codes = self.query_codes(queries, vectors) if self.query_codes else None
                context = self.builder.build(requests, codes).to(device)
                recent = self._recent(context.queries, device)
            memory, memory_padding = self.model.memory(text, padding, context, recent)
            steps = self.model.steps(self.kv_cache)
            beams = beam_search(steps, steps.start(memory, memory_padding), len(requests), self.trie, self.beam)
        return [[Hit(self.item_of[code], score) for code, score in found][:k] for found in beams]

    def restricted(self, item_ids: Collection[str]) -> GenerativeSearcher:
        """This searcher with a trie of only ``item_ids`` (a filter): the beam can then generate
        no other item. Needs at least one known item."""
        codes = {item: self.code_of[item] for item in item_ids if item in self.code_of}
        if not codes:
            raise ValueError("no item of the restriction is in this model's codebook")
        clone = copy.copy(self)
        clone.trie = SidTrie(np.asarray(list(codes.values())), self.model.config.code_sizes)
        return clone

    def with_codes(self, codes: Mapping[str, Sequence[int]]) -> GenerativeSearcher:
        """This model over another catalog: exactly the items of ``codes`` (item -> full code,
        distinct, inside the model's code sizes), e.g. after items were added or deleted."""
        if not codes:
            raise ValueError("a generative searcher needs at least one item")
        clone = copy.copy(self)
        clone.trie = SidTrie(np.asarray([list(c) for c in codes.values()]), self.model.config.code_sizes)
        clone.item_of = {tuple(int(v) for v in code): item for item, code in codes.items()}
        if len(clone.item_of) != len(codes):
            raise ValueError("two items share one full code")
        clone.code_of = {item: code for code, item in clone.item_of.items()}
        return clone

    def _recent(self, queries: list[list[str]], device: torch.device) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Pooled encoder vectors of each request's recent queries (``B x R x dim``) + padding."""
        distinct = sorted({q for row in queries for q in row})
        if not distinct:
            return None
        states, padding = self.token_states(distinct)
        vectors = pooled(states.float(), padding).cpu().numpy()
        out, mask = recent_queries(queries, vectors, {q: i for i, q in enumerate(distinct)})
        return out.to(device), mask.to(device)
