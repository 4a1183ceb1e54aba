"""Trie-constrained beam search over any step model, plus a plain reference with the same result.

Contract: ``beam_search(model, state, batch_size, trie, beam)`` returns, per input row, up to
``beam`` distinct full codes that are paths of ``trie`` (real items), best first, with their
summed log-probabilities. The model is driven through ``StepModel``:

- ``step(state, last_values, depth)`` -> (log-probs ``rows x sizes[depth]``, new state), where
  ``last_values`` holds each row's value chosen at ``depth - 1`` (None at depth 0);
- ``reorder(state, rows)`` -> the state of the selected rows (beam bookkeeping, e.g. KV caches).

``state`` enters with one row per input; beam search expands it to ``batch_size * beam`` rows.
``reference_beam_search`` recomputes every prefix from scratch with plain loops; tests compare it
with the batched one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import torch

from onesearch.decoding.trie import SidTrie

__all__ = ["Beam", "StepModel", "beam_search", "reference_beam_search"]

Beam = list[tuple[tuple[int, ...], float]]


class StepModel(Protocol):
    """What beam search needs from a model: one decoding step and row reordering."""

    def step(self, state: Any, last_values: torch.Tensor | None, depth: int) -> tuple[torch.Tensor, Any]: ...

    def reorder(self, state: Any, rows: torch.Tensor) -> Any: ...


def beam_search(model: StepModel, state: Any, batch_size: int, trie: SidTrie, beam: int) -> list[Beam]:
    """Batched constrained beam search (see module docstring)."""
    rows = torch.arange(batch_size).repeat_interleave(beam)
    state = model.reorder(state, rows)
    scores = torch.full((batch_size, beam), float("-inf"))
    scores[:, 0] = 0.0
    nodes = np.zeros(batch_size * beam, dtype=np.int64)
    last: torch.Tensor | None = None
    for depth, size in enumerate(trie.sizes):
        log_probs, state = model.step(state, last, depth)
        allowed = torch.from_numpy(trie.mask(nodes, depth)).to(log_probs.device)
        log_probs = log_probs.float().masked_fill(~allowed, float("-inf"))
        total = (scores.to(log_probs.device).reshape(-1, 1) + log_probs).reshape(batch_size, beam * size)
        top, index = total.topk(min(beam, beam * size), dim=1)
        top, index = _pad(top, beam), _pad(index, beam, fill=0)
        parents = (torch.arange(batch_size, device=index.device)[:, None] * beam + index // size).reshape(-1)
        values = (index % size).reshape(-1)
        nodes = trie.advance(nodes[parents.cpu().numpy()], depth, values.cpu().numpy())
        state = model.reorder(state, parents)
        last = values
        scores = top.cpu()
    return _results(trie, nodes, scores, batch_size, beam)


def reference_beam_search(log_probs: Callable[[int, tuple[int, ...]], np.ndarray], batch_size: int, trie: SidTrie, beam: int) -> list[Beam]:
    """The same search with plain loops: ``log_probs(row, prefix)`` scores the next value."""
    out = []
    for row in range(batch_size):
        beams: Beam = [((), 0.0)]
        for depth in range(len(trie.sizes)):
            candidates = []
            for prefix, score in beams:
                node = _node_of(trie, prefix)
                allowed = trie.mask(np.array([node]), depth)[0]
                scores = log_probs(row, prefix)
                candidates += [((*prefix, int(v)), score + float(scores[v])) for v in np.flatnonzero(allowed)]
            beams = sorted(candidates, key=lambda c: -c[1])[:beam]
        out.append(beams)
    return out


def _node_of(trie: SidTrie, prefix: tuple[int, ...]) -> int:
    node = np.zeros(1, dtype=np.int64)
    for depth, value in enumerate(prefix):
        node = trie.advance(node, depth, np.array([value]))
    return int(node[0])


def _pad(values: torch.Tensor, width: int, fill: float = float("-inf")) -> torch.Tensor:
    if values.shape[1] == width:
        return values
    pad = torch.full((values.shape[0], width - values.shape[1]), fill, dtype=values.dtype, device=values.device)
    return torch.cat([values, pad], dim=1)


def _results(trie: SidTrie, nodes: np.ndarray, scores: torch.Tensor, batch_size: int, beam: int) -> list[Beam]:
    out = []
    flat = scores.reshape(-1).numpy()
    for row in range(batch_size):
        found: Beam = []
        for i in range(row * beam, (row + 1) * beam):
            if nodes[i] >= 0 and np.isfinite(flat[i]):
                found.append((tuple(int(v) for v in trie.code_of(nodes[i : i + 1])[0]), float(flat[i])))
        out.append(found)
    return out
