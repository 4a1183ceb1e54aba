"""``CodeDecoder``: a transformer decoder that writes an item's code one position at a time,
attending to the (frozen, pretrained) text encoder's token states.

Contract: ``forward(memory, memory_padding, codes)`` returns one logits tensor per code position
(teacher forcing: position p sees the values before p). Token layout: BOS, then the values of
positions 0..L-1, each position with its own slice of one embedding table (``offsets``) plus a
learned position embedding; position p has its own output head of ``code_sizes[p]`` classes.
``step``/``reorder`` implement ``decoding.beam.StepModel``: the state is (memory, padding,
prefix tokens) and each step re-runs the decoder over the short prefix (codes are ~6 long).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["CodeDecoder", "ModelConfig"]


@dataclass(frozen=True)
class ModelConfig:
    """Network shape; saved with every checkpoint."""

    code_sizes: tuple[int, ...]
    memory_dim: int = 384
    d_model: int = 256
    layers: int = 4
    heads: int = 4
    feedforward: int = 1024
    dropout: float = 0.1


class CodeDecoder(nn.Module):
    """Encoder states in, code logits out."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        sizes = torch.tensor((0, *config.code_sizes[:-1]))
        self.register_buffer("offsets", torch.cumsum(sizes, 0) + 1, persistent=False)
        self.project = nn.Linear(config.memory_dim, config.d_model)
        self.values = nn.Embedding(1 + sum(config.code_sizes), config.d_model)
        self.positions = nn.Embedding(len(config.code_sizes), config.d_model)
        layer = nn.TransformerDecoderLayer(config.d_model, config.heads, config.feedforward, config.dropout, batch_first=True, norm_first=True)
        self.decoder = nn.TransformerDecoder(layer, config.layers)
        self.norm = nn.LayerNorm(config.d_model)
        self.heads = nn.ModuleList(nn.Linear(config.d_model, size) for size in config.code_sizes)

    def forward(self, memory: torch.Tensor, memory_padding: torch.Tensor, codes: torch.Tensor) -> list[torch.Tensor]:
        """Logits for every position of ``codes`` (``batch x L``), teacher-forced."""
        tokens = self._tokens(codes[:, :-1])
        hidden = self._decode(self.project(memory), memory_padding, tokens)
        return [head(hidden[:, p]) for p, head in enumerate(self.heads)]

    def loss(self, memory: torch.Tensor, memory_padding: torch.Tensor, codes: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
        """Summed cross-entropy over positions, averaged over examples (optionally weighted)."""
        per_example = sum(nn.functional.cross_entropy(logits, codes[:, p], reduction="none") for p, logits in enumerate(self(memory, memory_padding, codes)))
        if weights is None:
            return per_example.mean()
        return (per_example * weights).sum() / weights.sum()

    def start(self, memory: torch.Tensor, memory_padding: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Decoding state for a batch: projected memory, its padding and an empty prefix."""
        return self.project(memory), memory_padding, torch.zeros((len(memory), 0), dtype=torch.long, device=memory.device)

    def step(self, state, last_values, depth):  # type: ignore[no-untyped-def]
        """Log-probabilities of position ``depth`` given the prefix (``StepModel``)."""
        memory, padding, prefix = state
        if last_values is not None:
            prefix = torch.cat([prefix, last_values.to(prefix.device).reshape(-1, 1)], dim=1)
        hidden = self._decode(memory, padding, self._tokens(prefix))
        return torch.log_softmax(self.heads[depth](hidden[:, depth]).float(), dim=-1), (memory, padding, prefix)

    def reorder(self, state, rows):  # type: ignore[no-untyped-def]
        """The state of the selected rows (``StepModel``)."""
        rows = rows.to(state[0].device)
        return state[0][rows], state[1][rows], state[2][rows]

    def _tokens(self, prefix: torch.Tensor) -> torch.Tensor:
        """BOS + prefix values shifted into their position's slice of the embedding table."""
        bos = torch.zeros((len(prefix), 1), dtype=torch.long, device=prefix.device)
        return torch.cat([bos, prefix + self.offsets[: prefix.shape[1]]], dim=1)

    def _decode(self, memory: torch.Tensor, memory_padding: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        length = tokens.shape[1]
        x = self.values(tokens) + self.positions(torch.arange(length, device=tokens.device))
        causal = nn.Transformer.generate_square_subsequent_mask(length, device=tokens.device)
        return self.norm(self.decoder(x, memory, tgt_mask=causal, tgt_is_causal=True, memory_key_padding_mask=memory_padding))
