"""The training loop's optimizer and weight average (``training.anchored``)."""

from __future__ import annotations

import torch

from onesearch.generative.recipe import AnchoredRecipe
from onesearch.model.anchored import AnchoredConfig, AnchoredDecoder
from onesearch.training.anchored import _optimizer


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
