"""``AnchoredDecoder``: scores code prefixes in the geometry the codes were built in, plus the
prefix's planned evidence (RIPOR's anchored outputs + PAG's look-ahead plan).

Contract (ids and tensors only): the model holds, for every code depth d, one vector per trie
node at that depth — the reconstruction of its prefix from the codebook (the sum of its
residual k-means centroids and of its OPQ sub-codewords), and for the last depth the item's own
vector — and scores a batch of candidate nodes as

    score_d(node) = exp(scale_d) * <h_d, v_d[node] + delta_d[node]> + g_d(evidence_d[node], dense)

where ``h_d = q + A_d q + B_d u`` is the decoder state at depth d from the query vector ``q``
and the user's behaviour vector ``u``, ``evidence_d[node]`` is the request's evidence pooled
(max) over the node's items, and ``g_d`` is a small MLP. ``A_d``, ``B_d``, ``delta_d`` (learned at the
last depth only, the items' own vectors) and the last layer of ``g_d`` start at zero, so an untrained model ranks every depth by the quantized
dense score (and, at the last depth, the exact dense score); training learns the corrections.
With ``anchored=False`` the node vectors are learned from a random start instead (the ablation).
Higher scores are better; scores of different depths are not comparable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

__all__ = ["AnchoredConfig", "AnchoredDecoder", "DepthScorer", "rowwise_dense"]


@dataclass(frozen=True)
class AnchoredConfig:
    """Shape of the model; ``nodes`` is the number of trie nodes at each depth."""

    dim: int
    nodes: tuple[int, ...]
    evidence: int
    hidden: int = 64
    temperature: float = 0.05
    anchored: bool = True
    learn_nodes: bool = True
    user: bool = True
    evidence_on: bool = True
    query_correction: bool = True
    recency: float = 0.85  # the behaviour vector's weight decay per step back in the history (its searcher and loss read it)


class AnchoredDecoder(nn.Module):
    """Per-depth anchored node scores plus an evidence MLP (see module docstring)."""

    def __init__(self, config: AnchoredConfig, node_vectors: list[torch.Tensor] | None = None) -> None:
        super().__init__()
        self.config = config
        depths = len(config.nodes)
        for depth, count in enumerate(config.nodes):
            base = node_vectors[depth].float() if node_vectors is not None and config.anchored else torch.randn(count, config.dim) / math.sqrt(config.dim)
            self.register_buffer(f"base{depth}", base.contiguous())
        learned = [not config.anchored or (config.learn_nodes and depth == depths - 1) for depth in range(depths)]
        self.delta = nn.ParameterList([nn.Parameter(torch.zeros(count if on else 0, config.dim), requires_grad=on) for count, on in zip(config.nodes, learned)])
        self.query = nn.ModuleList([_zero_linear(config.dim, config.dim, bias=False) for _ in range(depths)])
        self.user = nn.ModuleList([_zero_linear(config.dim, config.dim, bias=False) for _ in range(depths)])
        self.scale = nn.Parameter(torch.full((depths,), math.log(1.0 / config.temperature)))
        width = config.evidence + 1
        self.evidence = nn.ModuleList([nn.Sequential(nn.Linear(width, config.hidden), nn.ReLU(), _zero_linear(config.hidden, 1)) for _ in range(depths)])
        self.linear = nn.ModuleList([_zero_linear(width, 1) for _ in range(depths)])

    @property
    def depths(self) -> int:
        return len(self.config.nodes)

    def node_vectors(self, depth: int, nodes: torch.Tensor) -> torch.Tensor:
        """The (corrected) vectors of ``nodes`` at ``depth`` (any shape of node ids)."""
        base: torch.Tensor = getattr(self, f"base{depth}")
        return base[nodes] + self.delta[depth][nodes] if len(self.delta[depth]) else base[nodes]

    def item_vectors(self) -> torch.Tensor:
        """The anchored vectors of the last depth's nodes (the items' own vectors), uncorrected."""
        return getattr(self, f"base{self.depths - 1}")

    def state_maps(self) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """The per-depth query and user maps ``A_d``, ``B_d`` stacked depth-major
        (``depths*dim x dim`` each; None where the recipe turns the term off). A searcher keeps
        them while the weights stay fixed, so a request costs one product per term, not one per depth."""
        query = torch.cat([layer.weight for layer in self.query]) if self.config.query_correction else None
        user = torch.cat([layer.weight for layer in self.user]) if self.config.user else None
        return query, user

    def states(self, query: torch.Tensor, user: torch.Tensor | None,
               maps: tuple[torch.Tensor | None, torch.Tensor | None] | None = None) -> torch.Tensor:
        """Decoder states ``B x depths x dim`` from query vectors (``B x dim``) and user vectors;
        ``maps``: this model's ``state_maps()`` when the caller keeps them, or their rows of the
        last depths only (then the states are those depths')."""
        query_map, user_map = self.state_maps() if maps is None else maps
        kept = next((m.shape[0] // query.shape[1] for m in (query_map, user_map) if m is not None), self.depths)
        shape = (len(query), kept, query.shape[1])
        h = query.unsqueeze(1).expand(shape)
        if query_map is not None:
            h = h + (query @ query_map.T).view(shape)
        if user is not None and user_map is not None:
            h = h + (user @ user_map.T).view(shape)
        return h.contiguous()

    def score(self, state: torch.Tensor, depth: int, nodes: torch.Tensor, evidence: torch.Tensor) -> torch.Tensor:
        """Scores ``B x K`` of candidate ``nodes`` (``B x K`` ids) at ``depth`` for states
        ``B x dim`` with pooled ``evidence`` (``B x K x evidence``)."""
        return self._combine(depth, torch.einsum("bd,bkd->bk", state, self.node_vectors(depth, nodes)), evidence)

    def node_dense(self, state: torch.Tensor, depth: int, nodes: np.ndarray, asked: np.ndarray | None = None) -> torch.Tensor:
        """Inner products of the (corrected) vectors of ``nodes`` at ``depth`` with one ``state``
        (``dim``), or, given ``asked`` (sorted, one per node), of node i with row ``asked[i]`` of
        ``state`` (``B x dim``, a batch's states), without gradients: the search-time path. Rows
        are gathered in numpy (several times cheaper than torch indexing; the product stays in
        torch, whose threads would fight BLAS's), and when ``nodes`` hold half the nodes of the
        depth or more, no rows are gathered: every node is scored (one product for the batch) and
        the candidates picked."""
        states = state[None] if asked is None else state  # one state: ``asked`` is never read
        if len(self.delta[depth]):
            return rowwise_dense(self.node_vectors(depth, torch.from_numpy(nodes)), states, asked)
        base: torch.Tensor = getattr(self, f"base{depth}")
        if 2 * len(nodes) < len(base):
            return rowwise_dense(torch.from_numpy(np.take(base.numpy(), nodes, axis=0)), states, asked)
        if asked is None or len(states) == 1:
            return (base @ states[0])[nodes]
        return (base @ states.T)[torch.from_numpy(nodes), torch.from_numpy(asked)]

    def score_all(self, state: torch.Tensor, depth: int, evidence: torch.Tensor) -> torch.Tensor:
        """Scores ``B x nodes[depth]`` of every node at ``depth`` (exhaustive scoring)."""
        base: torch.Tensor = getattr(self, f"base{depth}")
        vectors = base + self.delta[depth] if len(self.delta[depth]) else base
        return self._combine(depth, state @ vectors.T, evidence)

    def depth_scorer(self, depth: int, static: torch.Tensor) -> DepthScorer:
        """The search-time scorer of ``depth``'s nodes, whose static evidence is ``static``
        (``nodes x s``); built from the current weights, which it does not follow."""
        return DepthScorer(self, depth, static)

    def _combine(self, depth: int, dense: torch.Tensor, evidence: torch.Tensor) -> torch.Tensor:
        """Scaled dense score plus the evidence terms."""
        out = self.scale[depth].exp() * dense
        if self.config.evidence_on:
            features = torch.cat([evidence, dense.unsqueeze(-1)], dim=-1)
            out = out + self.evidence[depth](features).squeeze(-1) + self.linear[depth](features).squeeze(-1)
        return out


def rowwise_dense(rows: torch.Tensor, states: torch.Tensor, asked: np.ndarray | None) -> torch.Tensor:
    """``<rows[i], states[asked[i]]>`` for every row, ``asked`` sorted (the rows grouped by state;
    None with one state): one matrix-vector product per state, not a gathered copy of the states."""
    if asked is None or len(states) == 1:
        return rows @ states[0]
    bounds = np.searchsorted(asked, np.arange(len(states) + 1)).tolist()
    out = torch.empty(len(rows))
    for state, start, end in zip(states, bounds[:-1], bounds[1:]):
        if end > start:
            torch.mv(rows[start:end], state, out=out[start:end])
    return out


def _zero_linear(inputs: int, outputs: int, bias: bool = True) -> nn.Linear:
    """A linear layer that starts as the zero map (the model starts from the anchored score)."""
    layer = nn.Linear(inputs, outputs, bias=bias)
    nn.init.zeros_(layer.weight)
    if bias:
        nn.init.zeros_(layer.bias)
    return layer


class DepthScorer:
    """Search-time scores of one depth's nodes, whose request evidence is sparse (most nodes
    have none): ``scores(dense, nodes, planned, request)`` equals the model's score of ``nodes``
    (every node of the depth when None) given their inner products with the state (``dense``)
    and evidence = the node's static evidence, then ``request`` at the positions ``planned`` of
    ``nodes`` and 0 elsewhere. The first layers' products with the static evidence are made once
    here (``nodes x hidden``), and those with the request evidence only at the planned positions."""

    def __init__(self, model: AnchoredDecoder, depth: int, static: torch.Tensor) -> None:
        self.scale = model.scale[depth].detach().exp()
        self.evidence_on = model.config.evidence_on
        first, last, linear = model.evidence[depth][0], model.evidence[depth][2], model.linear[depth]
        columns = static.shape[1]
        with torch.no_grad():
            self.hidden = (static @ first.weight[:, :columns].T + first.bias).numpy()  # nodes x hidden, gathered in numpy
            self.offset = (static @ linear.weight[0, :columns] + linear.bias + last.bias).numpy()  # nodes
            self.first_request, self.first_dense = first.weight[:, columns:-1].T.contiguous(), first.weight[:, -1].contiguous()
            self.linear_request, self.linear_dense = linear.weight[0, columns:-1].contiguous(), linear.weight[0, -1]
            self.last = last.weight[0].contiguous()

    def scores(self, dense: torch.Tensor, nodes: np.ndarray | None, planned: np.ndarray, request: torch.Tensor) -> torch.Tensor:
        """Scores of ``nodes`` (None: every node) from ``dense`` (one each) and the request
        evidence (``len(planned) x r``) at their positions ``planned``."""
        if not self.evidence_on:
            return self.scale * dense
        hidden = torch.from_numpy(self.hidden if nodes is None else np.take(self.hidden, nodes, axis=0))
        hidden = torch.addr(hidden, dense, self.first_dense)
        at = torch.from_numpy(planned)
        hidden.index_add_(0, at, request @ self.first_request)
        offset = torch.from_numpy(self.offset if nodes is None else np.take(self.offset, nodes))
        out = torch.relu_(hidden) @ self.last + offset + (self.scale + self.linear_dense) * dense
        return out.index_add_(0, at, request @ self.linear_request)
