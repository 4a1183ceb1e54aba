"""The anchored model's listwise loss at every code depth.

Contract: ``batch_loss(model, batch, parts, static_nodes, item_vectors)`` is the mean over the
batch, summed over depths (shallow depths weighted by ``prefix_weight``), of the softmax
cross-entropy of the node scores against gain-proportional targets; a node's gain is the best gain
among its items. Depths with at most ``FULL_DEPTH`` nodes are scored in full, deeper ones over
the example's candidates. With the recipe's ``lambda_weight`` the item depth adds that much of
``lambda_loss`` (LambdaRank's NDCG-weighted pairs over the top of the model's own list). The
targets' own popularity is left out of their evidence.
"""

from __future__ import annotations

import numpy as np
import torch

from onesearch.decoding.planned import NodeEvidence, user_vectors
from onesearch.evidence.plan import STATIC
from onesearch.generative.parts import SearchParts
from onesearch.model.anchored import AnchoredDecoder
from onesearch.training.examples import PlannedExample

__all__ = ["FULL_DEPTH", "LAMBDA_TOP", "MAX_PAIR_WEIGHT", "DpoLoss", "RankingLoss", "batch_loss", "dpo_loss", "listwise_dpo", "listwise_loss"]

FULL_DEPTH = 1024  # depths with at most this many nodes are trained against every node
LAMBDA_TOP = 50  # lambda_loss pairs the positives with the model's own top this many candidates
MAX_PAIR_WEIGHT = 10.0  # the DPO pair weight 1 / (reward gap) is clamped here (it blows up for small gaps)


class RankingLoss(torch.nn.Module):
    """The listwise loss of a batch as a module's forward, so DDP can wrap it."""

    def __init__(self, model: AnchoredDecoder, parts: SearchParts, static_nodes: list[np.ndarray], item_vectors: torch.Tensor) -> None:
        super().__init__()
        self.model, self.parts, self.static_nodes, self.item_vectors = model, parts, static_nodes, item_vectors

    def forward(self, batch: list[PlannedExample]) -> torch.Tensor:
        return batch_loss(self.model, batch, self.parts, self.static_nodes, self.item_vectors)


def batch_loss(model: AnchoredDecoder, batch: list[PlannedExample], parts: SearchParts, static_nodes: list[np.ndarray], item_vectors: torch.Tensor) -> torch.Tensor:
    """Listwise softmax cross-entropy against gain-proportional targets, each example's weighted
    by its ``weight``, averaged over the batch and summed over depths."""
    weight = torch.tensor([e.weight for e in batch], dtype=torch.float32)
    query = torch.from_numpy(np.stack([e.query for e in batch]).astype(np.float32))
    user = user_vectors([e.history for e in batch], item_vectors, model.config.recency) if model.config.user else None
    states = model.states(query, user)
    tree, last = parts.tree, parts.tree.depth - 1
    total = torch.zeros(())
    evidence_of = [NodeEvidence(tree, static_nodes, example.plan) for example in batch]
    for depth in range(tree.depth):
        if depth < last and not parts.recipe.prefix_loss:
            continue
        nodes, evidence, gains = [], [], []
        for example, node_evidence in zip(batch, evidence_of):
            at = np.arange(tree.counts[depth]) if tree.counts[depth] <= FULL_DEPTH else np.unique(tree.paths[example.candidates, depth])
            features = node_evidence.at(depth, at)
            _leave_one_out(features, at, depth, example.targets, parts)
            known, pooled = tree.pool_max(example.targets, example.gains[:, None], depth)
            gain = np.zeros(len(at), dtype=np.float32)
            index = np.searchsorted(at, known)
            gain[index] = np.maximum(pooled[:, 0], 0.0)
            nodes.append(at), evidence.append(features), gains.append(gain)
        full = tree.counts[depth] <= FULL_DEPTH
        width = max(len(n) for n in nodes)
        node_ids = torch.from_numpy(np.stack([np.pad(n, (0, width - len(n))) for n in nodes]))
        features_t = torch.from_numpy(np.stack([np.pad(f, ((0, width - len(f)), (0, 0))) for f in evidence]))
        gain_t = torch.from_numpy(np.stack([np.pad(g, (0, width - len(g))) for g in gains]))
        mask = torch.from_numpy(np.stack([np.arange(width) < len(n) for n in nodes]))
        if full:
            scores = model.score_all(states[:, depth], depth, features_t)
        else:
            scores = model.score(states[:, depth], depth, node_ids, features_t).masked_fill(~mask, float("-inf"))
        total = total + (1.0 if depth == last else parts.recipe.prefix_weight) * listwise_loss(scores, gain_t, mask, weight)
        if depth == last and parts.recipe.lambda_weight:
            total = total + parts.recipe.lambda_weight * lambda_loss(scores, gain_t, mask, weight)
    return total


def listwise_loss(scores: torch.Tensor, gains: torch.Tensor, mask: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean over the rows with a positive gain of ``weight`` times the softmax cross-entropy of
    ``scores`` (``B x K``, -inf where ``mask`` is False) against the gain-proportional target."""
    has = gains.sum(1) > 0
    if not has.any():
        return torch.zeros(())
    target = gains[has] / gains[has].sum(1, keepdim=True)
    log_p = torch.log_softmax(scores[has], dim=1).masked_fill(~mask[has], 0.0)
    return -(weight[has] * (target * log_p).sum(1)).mean()


def lambda_loss(scores: torch.Tensor, gains: torch.Tensor, mask: torch.Tensor, weight: torch.Tensor, top: int = LAMBDA_TOP) -> torch.Tensor:
    """LambdaRank over each row of ``scores`` (``B x K``, -inf where ``mask`` is False): every pair
    of a candidate i and a candidate j of lower gain, i a positive and j one of the row's ``top``
    best-scored candidates or a positive, costs ``softplus(s_j - s_i)`` weighted by the NDCG change
    of swapping the two at their current ranks (linear gains); a row's cost is the weighted mean
    over its pairs. Mean over the rows with a positive gain, each times its ``weight``; ranks are
    read from the detached scores."""
    has = (gains > 0).any(dim=1)
    if not has.any():
        return torch.zeros(())
    scores, gains, mask, weight = scores[has], gains[has], mask[has], weight[has]
    with torch.no_grad():
        best = torch.topk(scores, min(top, scores.shape[1]), dim=1).indices
        chosen = torch.zeros_like(mask).scatter_(1, best, True) & mask | (gains > 0)
        picked = torch.topk(chosen.float() + (gains > 0).float(), int(chosen.sum(dim=1).max()), dim=1).indices  # the chosen first (positives first of all)
        real = chosen.gather(1, picked)
    s = scores.gather(1, picked).masked_fill(~real, 0.0)
    with torch.no_grad():
        rank = 1 + (scores.unsqueeze(1) > s.unsqueeze(2)).sum(dim=2)  # B x width, among every candidate
        discount = 1.0 / torch.log2(rank.float() + 1.0)
        g = gains.gather(1, picked)
        delta = (g.unsqueeze(2) - g.unsqueeze(1)).clamp(min=0) * (discount.unsqueeze(2) - discount.unsqueeze(1)).abs() * (real.unsqueeze(2) & real.unsqueeze(1))
    pair = torch.nn.functional.softplus(s.unsqueeze(1) - s.unsqueeze(2))  # [i, j]: softplus(s_j - s_i)
    row = (delta * pair).sum(dim=(1, 2)) / delta.sum(dim=(1, 2)).clamp(min=1e-12)
    return (weight * row).mean()


def _leave_one_out(features: np.ndarray, nodes: np.ndarray, depth: int, targets: np.ndarray, parts: SearchParts) -> None:
    """Recompute the static (popularity) evidence of the targets' own nodes without the example's
    own targets, so a train example cannot find its answer through its own count."""
    exclude = frozenset(targets.tolist())
    for node in np.unique(parts.tree.paths[targets, depth]):
        index = int(np.searchsorted(nodes, node))
        features[index, : len(STATIC)] = parts.static(parts.tree.members(int(node), depth), exclude).max(axis=0)




class DpoLoss(torch.nn.Module):
    """List-wise DPO of a batch of preference lists against a frozen reference model."""

    def __init__(self, model: AnchoredDecoder, reference: AnchoredDecoder, parts: SearchParts, static_nodes: list[np.ndarray], item_vectors: torch.Tensor) -> None:
        super().__init__()
        self.model, self.reference, self.parts, self.static_nodes, self.item_vectors = model, reference, parts, static_nodes, item_vectors

    def forward(self, batch: list[PlannedExample]) -> torch.Tensor:
        return dpo_loss(self.model, self.reference, batch, self.parts, self.static_nodes, self.item_vectors)


def dpo_loss(model: AnchoredDecoder, reference: AnchoredDecoder, batch: list[PlannedExample], parts: SearchParts, static_nodes: list[np.ndarray],
             item_vectors: torch.Tensor) -> torch.Tensor:
    """Mean ``listwise_dpo`` of the batch's preference lists: each example's ``targets`` are the
    reward model's list and ``gains`` its rewards, scored at the last depth by ``model`` and the
    frozen ``reference`` (the model the stage started from)."""
    tree, last, recipe = parts.tree, parts.tree.depth - 1, parts.recipe
    nodes = [tree.paths[e.targets, last] for e in batch]
    width = max(len(n) for n in nodes)
    node_ids = torch.from_numpy(np.stack([np.pad(n, (0, width - len(n))) for n in nodes]))
    features = torch.from_numpy(np.stack([np.pad(NodeEvidence(tree, static_nodes, e.plan).at(last, n), ((0, width - len(n)), (0, 0))) for e, n in zip(batch, nodes)]))
    rewards = torch.from_numpy(np.stack([np.pad(e.gains, (0, width - len(e.gains))) for e in batch]))
    mask = torch.from_numpy(np.stack([np.arange(width) < len(n) for n in nodes]))
    query = torch.from_numpy(np.stack([e.query for e in batch]).astype(np.float32))
    user = user_vectors([e.history for e in batch], item_vectors, model.config.recency) if model.config.user else None
    scores = model.score(model.states(query, user)[:, last], last, node_ids, features)
    with torch.no_grad():
        reference_scores = reference.score(reference.states(query, user)[:, last], last, node_ids, features)
    weight = torch.tensor([e.weight for e in batch], dtype=torch.float32)
    return listwise_dpo(scores, reference_scores, rewards, mask, recipe.dpo_beta, recipe.dpo_alpha, weight)


def listwise_dpo(scores: torch.Tensor, reference: torch.Tensor, rewards: torch.Tensor, mask: torch.Tensor, beta: float, alpha: float,
                 weight: torch.Tensor) -> torch.Tensor:
    """OneSearch's list-wise DPO over lists (``B x K``; ``mask`` marks real entries): with the
    policy's log-probability over the list ``log pi`` and ``r = beta (log pi - log pi_ref)``, the
    winner w is the item of highest reward and every item l of lower reward a loser weighted
    ``min(1 / (reward_w - reward_l), MAX_PAIR_WEIGHT)``; the loss is
    ``-log sigmoid(-logsumexp_l(weight_l (r_l - r_w))) - alpha log pi(w)``. Items whose reward is
    not below the winner's are no losers (so the weight is never infinite or negative, never
    NaN); a list without a loser contributes 0."""
    log_pi = torch.log_softmax(scores.masked_fill(~mask, float("-inf")), dim=1)
    log_ref = torch.log_softmax(reference.masked_fill(~mask, float("-inf")), dim=1)
    implicit = beta * (log_pi - log_ref).masked_fill(~mask, 0.0)
    winner = rewards.masked_fill(~mask, float("-inf")).argmax(dim=1, keepdim=True)
    gap = rewards.gather(1, winner) - rewards
    losers = mask & (gap > 0)
    pair = torch.where(losers, torch.clamp(1.0 / gap.clamp(min=1e-12), max=MAX_PAIR_WEIGHT), torch.zeros_like(gap))
    margins = (pair * (implicit - implicit.gather(1, winner))).masked_fill(~losers, float("-inf"))
    has = losers.any(dim=1)
    if not has.any():
        return torch.zeros(())
    preference = -torch.nn.functional.logsigmoid(-torch.logsumexp(margins[has], dim=1))
    likelihood = -log_pi.gather(1, winner).squeeze(1)[has]
    return (weight[has] * (preference + alpha * likelihood)).mean()
