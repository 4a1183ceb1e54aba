"""``listwise_loss``: softmax cross-entropy against gain-proportional targets, hand-derived."""

from __future__ import annotations

import torch

from onesearch.training.losses import listwise_loss


def test_the_listwise_loss_weights_each_example_and_skips_those_without_gain():
    scores = torch.tensor([[2.0, 0.0, float("-inf")], [0.0, 1.0, 3.0], [1.0, 1.0, 1.0]])
    gains = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.0, 0.0, 0.0]])
    mask = torch.tensor([[True, True, False], [True, True, True], [True, True, True]])
    each = [-torch.log_softmax(torch.tensor([2.0, 0.0]), 0)[0], -(0.5 * torch.log_softmax(scores[1], 0)[1:]).sum()]
    assert torch.isclose(listwise_loss(scores, gains, mask, torch.ones(3)), (each[0] + each[1]) / 2)
    assert torch.isclose(listwise_loss(scores, gains, mask, torch.tensor([1.0, 0.0, 7.0])), each[0] / 2)
    assert listwise_loss(scores, torch.zeros(3, 3), mask, torch.ones(3)) == 0.0
