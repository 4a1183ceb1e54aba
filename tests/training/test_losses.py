"""``listwise_loss``: softmax cross-entropy against gain-proportional targets, hand-derived."""

from __future__ import annotations

import torch

from onesearch.training.losses import MAX_PAIR_WEIGHT, lambda_loss, listwise_dpo, listwise_loss


def test_the_listwise_loss_weights_each_example_and_skips_those_without_gain():
    scores = torch.tensor([[2.0, 0.0, float("-inf")], [0.0, 1.0, 3.0], [1.0, 1.0, 1.0]])
    gains = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.0, 0.0, 0.0]])
    mask = torch.tensor([[True, True, False], [True, True, True], [True, True, True]])
    each = [-torch.log_softmax(torch.tensor([2.0, 0.0]), 0)[0], -(0.5 * torch.log_softmax(scores[1], 0)[1:]).sum()]
    assert torch.isclose(listwise_loss(scores, gains, mask, torch.ones(3)), (each[0] + each[1]) / 2)
    assert torch.isclose(listwise_loss(scores, gains, mask, torch.tensor([1.0, 0.0, 7.0])), each[0] / 2)
    assert listwise_loss(scores, torch.zeros(3, 3), mask, torch.ones(3)) == 0.0


def test_listwise_dpo_is_finite_when_a_loser_outranks_the_winner_or_the_gap_is_tiny():
    scores = torch.tensor([[0.5, 1.0, 2.0, 0.0]], requires_grad=True)
    reference = torch.zeros(1, 4)
    rewards = torch.tensor([[1.0, 1.0 - 1e-6, 0.2, 5.0]])  # a gap of 1e-6 (weight clamped); the masked 5.0 is no winner
    mask = torch.tensor([[True, True, True, False]])
    loss = listwise_dpo(scores, reference, rewards, mask, beta=1.0, alpha=0.0, weight=torch.ones(1))
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(scores.grad).all()
    log_pi = torch.log_softmax(scores.detach()[0, :3], 0)
    margins = torch.tensor([MAX_PAIR_WEIGHT * (log_pi[1] - log_pi[0]), (1 / 0.8) * (log_pi[2] - log_pi[0])])
    assert torch.isclose(loss, -torch.nn.functional.logsigmoid(-torch.logsumexp(margins, 0)), atol=1e-5)
    assert scores.grad[0, 0] < 0 and scores.grad[0, 2] > 0  # descent raises the winner and lowers the loser


def test_listwise_dpo_skips_lists_without_a_loser_and_adds_the_winner_likelihood():
    scores = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    rewards = torch.tensor([[0.5, 0.5], [1.0, 0.0]])  # the first list has no loser
    mask = torch.ones(2, 2, dtype=torch.bool)
    plain = listwise_dpo(scores, scores, rewards, mask, beta=1.0, alpha=0.0, weight=torch.ones(2))
    assert torch.isclose(plain, -torch.nn.functional.logsigmoid(torch.tensor(0.0)))  # policy = reference: log 2
    with_likelihood = listwise_dpo(scores, scores, rewards, mask, beta=1.0, alpha=0.5, weight=torch.ones(2))
    assert torch.isclose(with_likelihood - plain, -0.5 * torch.log_softmax(scores[1], 0)[0])
    assert listwise_dpo(scores, scores, torch.zeros(2, 2), mask, 1.0, 1.0, torch.ones(2)) == 0.0


def test_lambda_loss_is_low_when_the_list_is_ordered_by_gain_and_lifts_a_buried_positive():
    gains = torch.tensor([[2.0, 1.0, 0.0, 0.0, 0.0]])
    mask = torch.ones_like(gains, dtype=torch.bool)
    weight = torch.ones(1)
    ordered = lambda_loss(torch.tensor([[5.0, 4.0, 1.0, 0.0, -1.0]]), gains, mask, weight, top=3)
    reversed_ = lambda_loss(torch.tensor([[-1.0, 0.0, 1.0, 4.0, 5.0]]), gains, mask, weight, top=3)
    assert 0 < ordered < reversed_
    scores = torch.tensor([[0.0, 1.0, 3.0, 2.0, 4.0]], requires_grad=True)
    lambda_loss(scores, gains, mask, weight, top=2).backward()
    assert scores.grad[0, 0] < 0 and scores.grad[0, 1] < 0  # gradient descent raises both positives
    assert scores.grad[0, 4] > 0 and scores.grad[0, 2] > 0  # and lowers the top negatives
    assert scores.grad[0, 0] < scores.grad[0, 1]  # the larger gain is pushed harder


def test_lambda_loss_ignores_padding_and_rows_without_a_positive():
    scores = torch.tensor([[1.0, 0.0, float("-inf")], [3.0, 2.0, 1.0]])
    gains = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    mask = torch.tensor([[True, True, False], [True, True, True]])
    loss = lambda_loss(scores, gains, mask, torch.ones(2))
    assert torch.isfinite(loss) and loss > 0
    assert lambda_loss(scores[1:], gains[1:], mask[1:], torch.ones(1)) == 0
