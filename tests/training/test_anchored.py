"""The training loop's optimizer and weight average, and its pick of the served beam (``training.anchored``)."""

from __future__ import annotations

import torch

from onesearch.generative.recipe import AnchoredRecipe
from onesearch.model.anchored import AnchoredConfig, AnchoredDecoder
from onesearch.training.anchored import _optimizer, _pick_beam
from onesearch.types import Example, Hit, SearchRequest, Target, UserContext


def _model() -> AnchoredDecoder:
    return AnchoredDecoder(AnchoredConfig(dim=8, nodes=(4, 16), evidence=3, hidden=8, query_correction=True), [torch.randn(4, 8), torch.randn(16, 8)])


def test_weight_decay_acts_on_the_matrices_never_on_the_scales_or_biases():
    model = _model()
    decayed, plain = _optimizer(model, AnchoredRecipe(weight_decay=0.5)).param_groups
    assert decayed["weight_decay"] == 0.5 and plain["weight_decay"] == 0.0
    assert all(p.dim() >= 2 for p in decayed["params"]) and any(p is model.scale for p in plain["params"])
    assert len(decayed["params"]) + len(plain["params"]) == sum(1 for p in model.parameters() if p.requires_grad)


def test_the_recipe_hashes_as_before_with_both_switches_off_and_apart_with_either_on():
    base = AnchoredRecipe().fingerprint()
    assert AnchoredRecipe(ema=0.0, weight_decay=0.0).fingerprint() == base
    assert len({base, AnchoredRecipe(ema=0.995).fingerprint(), AnchoredRecipe(weight_decay=0.5).fingerprint()}) == 3


class _Beamed:
    """A searcher that finds every target from beam ``whole`` on, every second one from ``half``,
    and at beam 10 (below ``half``) none of them."""

    def __init__(self, whole: int, half: int) -> None:
        self.beam, self.whole, self.half = 0, whole, half

    def sync(self) -> None:
        pass

    def search(self, requests: list[SearchRequest], k: int) -> list[list[Hit]]:
        found = [self.beam >= self.whole or (self.beam >= self.half and i % 2 == 0) for i in range(len(requests))]
        return [[Hit("target" if hit else "other", 1.0)] for hit in found]


def test_the_served_beams_are_the_narrowest_that_lose_nothing_on_valid():
    examples = [Example(f"e{i}", "valid", (Target("target", 1.0, True),)) for i in range(8)]
    requests = [SearchRequest(f"q{i}", UserContext(None)) for i in range(8)]
    lines: list[str] = []
    assert _pick_beam(_Beamed(whole=5, half=5), examples, requests, 40, lines.append) == {"beam": 10, "page_beam": 5}  # an eighth finds all: a page takes it, a deep list a quarter at least
    assert _pick_beam(_Beamed(whole=20, half=10), examples, requests, 40, lines.append) == {"beam": 20, "page_beam": 20}  # a quarter loses half the targets
    assert _pick_beam(_Beamed(whole=40, half=20), examples, requests, 40, lines.append) == {"beam": 40, "page_beam": 40}
    assert "serving beam 40, page beam 40" in lines[-1] and any("recall@350" in line for line in lines) and any("recall@10" in line for line in lines)
