import hashlib

import numpy as np
import pytest
import torch

from onesearch.decoding.beam import beam_search, reference_beam_search
from onesearch.decoding.trie import SidTrie


def _log_probs(row: int, prefix: tuple[int, ...], size: int) -> np.ndarray:
    """Deterministic pseudo-random next-value distribution of (row, prefix): the mock model."""
    seed = int(hashlib.sha256(repr((row, prefix)).encode()).hexdigest()[:8], 16)
    logits = np.random.default_rng(seed).normal(size=size) * 2
    return logits - np.log(np.exp(logits).sum())


class MockModel:
    """State = (input row, prefix so far) per beam row, like a KV cache that beam search reorders."""

    def __init__(self, sizes):
        self.sizes = sizes
        self.steps = 0

    def step(self, state, last_values, depth):
        rows, prefixes = state
        if last_values is not None:
            prefixes = torch.cat([prefixes, last_values.reshape(-1, 1)], dim=1)
        self.steps += 1
        out = [_log_probs(int(r), tuple(p.tolist()), self.sizes[depth]) for r, p in zip(rows, prefixes)]
        return torch.tensor(np.array(out), dtype=torch.float32), (rows, prefixes)

    def reorder(self, state, rows):
        return state[0][rows], state[1][rows]


def _codes(seed, sizes, n):
    rng = np.random.default_rng(seed)
    return np.unique(np.stack([rng.integers(0, s, n) for s in sizes], axis=1), axis=0)


@pytest.mark.parametrize(("seed", "beam"), [(0, 1), (1, 5), (2, 20), (3, 64)])
def test_batched_search_equals_the_reference(seed, beam):
    sizes = (6, 5, 4)
    trie = SidTrie(_codes(seed, sizes, 50), sizes)
    batch = 3
    model = MockModel(sizes)
    state = (torch.arange(batch), torch.zeros((batch, 0), dtype=torch.long))
    fast = beam_search(model, state, batch, trie, beam)
    slow = reference_beam_search(lambda row, prefix: _log_probs(row, prefix, sizes[len(prefix)]), batch, trie, beam)
    assert model.steps == len(sizes)
    for got, want in zip(fast, slow):
        assert [code for code, _ in got] == [code for code, _ in want]
        np.testing.assert_allclose([s for _, s in got], [s for _, s in want], rtol=1e-5, atol=1e-5)


def test_results_are_distinct_real_codes_best_first_even_when_beam_exceeds_the_catalog():
    sizes = (3, 3)
    codes = np.array([[0, 1], [2, 2], [1, 0]])
    trie = SidTrie(codes, sizes)
    state = (torch.arange(2), torch.zeros((2, 0), dtype=torch.long))
    results = beam_search(MockModel(sizes), state, 2, trie, beam=10)
    for found in results:
        assert sorted(code for code, _ in found) == sorted(map(tuple, codes.tolist()))
        scores = [s for _, s in found]
        assert scores == sorted(scores, reverse=True)
