"""``CodeDecoder``: a transformer decoder that writes an item's code one position at a time,
attending to a memory made of the query text's token states plus the context tokens of the input
views (``model.inputs``). The token states come either from a frozen pretrained encoder (the
caller passes ``B x T x memory_dim`` floats) or, when ``config.vocab_size > 0``, from the model's
own text encoder, trained from scratch over the ids of a shop-trained tokenizer (the caller passes
``B x T`` int64 ids) — for languages no shipped encoder covers.

Contract: ``forward(text, padding, codes, context, recent)`` returns one logits tensor per code
position (teacher forcing: position p sees the values before p). Token layout: BOS, then the
values of positions 0..L-1, each position with its own slice of one value-embedding table
(``offsets``) plus a learned position embedding; position p has its own output head of
``code_sizes[p]`` classes. Context tokens reuse the value table: an item or query code is the sum
of its values' embeddings plus a kind and a slot embedding; long-term tokens are count-weighted
means of value embeddings per behaviour type and level.

Decoding goes through ``steps(kv_cache)``, which implements ``decoding.beam.StepModel``: with the
KV cache, the memory's cross-attention keys/values are computed once per request and shared by
all its beams, and each step runs only the newest token against cached self-attention keys;
without it, every step re-runs the decoder over the whole prefix (kept as the reference).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from onesearch.model.inputs import BEHAVIOURS, Context, Kind, Views

__all__ = ["CodeDecoder", "ModelConfig"]

MAX_SLOTS = 64
MAX_TEXT = 128


@dataclass(frozen=True)
class ModelConfig:
    """Network shape and input views; saved with every checkpoint."""

    code_sizes: tuple[int, ...]
    memory_dim: int = 384
    d_model: int = 256
    layers: int = 4
    heads: int = 4
    feedforward: int = 1024
    dropout: float = 0.1
    views: Views = field(default_factory=Views)
    kinds: int = 10  # rows of the context-kind table (models before matched behaviour had 10)
    vocab_size: int = 0  # > 0: own text encoder over this many token ids (memory_dim = d_model)
    text_layers: int = 2


class CodeDecoder(nn.Module):
    """Encoder states + context in, code logits out."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        sizes = torch.tensor((0, *config.code_sizes[:-1]))
        self.register_buffer("offsets", torch.cumsum(sizes, 0) + 1, persistent=False)
        self.project = nn.Linear(config.memory_dim, config.d_model)
        if config.vocab_size:
            self.text_tokens = nn.Embedding(config.vocab_size, config.memory_dim, padding_idx=0)
            self.text_positions = nn.Embedding(MAX_TEXT, config.memory_dim)
            text_layer = nn.TransformerEncoderLayer(config.memory_dim, config.heads, config.feedforward, config.dropout, batch_first=True, norm_first=True)
            self.text_encoder = nn.TransformerEncoder(text_layer, config.text_layers, enable_nested_tensor=False)
        self.values = nn.Embedding(1 + sum(config.code_sizes), config.d_model)
        self.positions = nn.Embedding(len(config.code_sizes), config.d_model)
        layer = nn.TransformerDecoderLayer(config.d_model, config.heads, config.feedforward, config.dropout, batch_first=True, norm_first=True)
        self.decoder = nn.TransformerDecoder(layer, config.layers)
        self.norm = nn.LayerNorm(config.d_model)
        self.heads = nn.ModuleList(nn.Linear(config.d_model, size) for size in config.code_sizes)
        views = config.views
        if views.any:
            self.kinds = nn.Embedding(config.kinds, config.d_model)
            self.slots = nn.Embedding(MAX_SLOTS, config.d_model)
        if views.profile:
            self.profile = nn.Embedding(views.profile_vocab, config.d_model, padding_idx=0)
        if views.long_term:
            self.long_term = nn.Embedding(len(BEHAVIOURS) * views.long_levels, config.d_model)

    # -- memory -------------------------------------------------------------------------------

    def memory(self, text: torch.Tensor, padding: torch.Tensor, context: Context | None = None, recent: tuple[torch.Tensor, torch.Tensor] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The decoder's memory (``B x M x d``) and its padding mask (True = padding).

        ``text``: token states or ids (see module docstring); ``recent``: pooled encoder vectors
        of the recent queries (``B x R x memory_dim``) and their padding, when the short-term
        view is on (frozen-encoder models only)."""
        parts, masks = [self.project(self._text_states(text, padding))], [padding]
        if context is not None:
            codes, code_padding = self._code_tokens(context)
            parts.append(codes)
            masks.append(code_padding)
            if self.config.views.profile:
                parts.append(self.profile(context.profile) + self.kinds.weight[Kind.PROFILE])
                masks.append(context.profile == 0)
            if self.config.views.long_term:
                tokens, long_padding = self._long_term_tokens(context.long_term)
                parts.append(tokens)
                masks.append(long_padding)
        if recent is not None and recent[0].shape[1] > 0:
            parts.append(self.project(recent[0]) + self.kinds.weight[Kind.QUERY])
            masks.append(recent[1])
        return torch.cat(parts, dim=1), torch.cat(masks, dim=1)

    def _text_states(self, text: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        """Frozen states as given, or the own encoder run over token ids."""
        if not self.config.vocab_size:
            return text
        positions = torch.arange(text.shape[1], device=text.device).clamp(max=MAX_TEXT - 1)
        return self.text_encoder(self.text_tokens(text) + self.text_positions(positions), src_key_padding_mask=padding)

    def _value_sum(self, codes: torch.Tensor) -> torch.Tensor:
        """Sum of the value embeddings of each code (``... x L``, -1 = absent level)."""
        present = codes >= 0
        ids = torch.where(present, codes + self.offsets[: codes.shape[-1]], torch.zeros_like(codes))
        return (self.values(ids) * present.unsqueeze(-1)).sum(dim=-2)

    def _code_tokens(self, context: Context) -> tuple[torch.Tensor, torch.Tensor]:
        slots = torch.arange(context.kinds.shape[1], device=context.kinds.device).clamp(max=MAX_SLOTS - 1)
        tokens = self._value_sum(context.codes) + self.kinds(context.kinds) + self.slots(slots)
        return tokens, context.kinds == Kind.PAD

    def _long_term_tokens(self, counts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per behaviour type and level: the count-weighted mean of that level's value embeddings."""
        levels = self.config.views.long_levels
        tokens, masks = [], []
        start = 0
        for level, size in enumerate(self.config.code_sizes[:levels]):
            block = counts[:, :, start : start + size]
            total = block.sum(dim=-1, keepdim=True)
            weights = self.values.weight[1 + start : 1 + start + size]
            tokens.append((block / total.clamp(min=1.0)) @ weights)
            masks.append(total.squeeze(-1) == 0)
            start += size
        stacked = torch.stack(tokens, dim=2).flatten(1, 2)
        kind_ids = torch.arange(len(BEHAVIOURS) * levels, device=counts.device)
        return stacked + self.long_term(kind_ids) + self.kinds.weight[Kind.LONG_TERM], torch.stack(masks, dim=2).flatten(1, 2)

    # -- training -----------------------------------------------------------------------------

    def forward(self, text: torch.Tensor, padding: torch.Tensor, codes: torch.Tensor, context: Context | None = None, recent: tuple[torch.Tensor, torch.Tensor] | None = None) -> list[torch.Tensor]:
        """Logits for every position of ``codes`` (``batch x L``), teacher-forced."""
        memory, memory_padding = self.memory(text, padding, context, recent)
        hidden = self._decode(memory, memory_padding, self._tokens(codes[:, :-1]))
        return [head(hidden[:, p]) for p, head in enumerate(self.heads)]

    def loss(self, text: torch.Tensor, padding: torch.Tensor, codes: torch.Tensor, weights: torch.Tensor | None = None, context: Context | None = None, recent: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """Summed cross-entropy over positions, averaged over examples (optionally weighted)."""
        logits = self(text, padding, codes, context, recent)
        per_example = sum(F.cross_entropy(out, codes[:, p], reduction="none") for p, out in enumerate(logits))
        if weights is None:
            return per_example.mean()
        return (per_example * weights).sum() / weights.sum()

    # -- decoding -----------------------------------------------------------------------------

    def steps(self, kv_cache: bool = True) -> CachedSteps | PlainSteps:
        """The ``StepModel`` adapter beam search drives."""
        return CachedSteps(self) if kv_cache else PlainSteps(self)

    def _tokens(self, prefix: torch.Tensor) -> torch.Tensor:
        """BOS + prefix values shifted into their position's slice of the embedding table."""
        bos = torch.zeros((len(prefix), 1), dtype=torch.long, device=prefix.device)
        return torch.cat([bos, prefix + self.offsets[: prefix.shape[1]]], dim=1)

    def _embed(self, tokens: torch.Tensor, first_position: int = 0) -> torch.Tensor:
        positions = torch.arange(first_position, first_position + tokens.shape[1], device=tokens.device)
        return self.values(tokens) + self.positions(positions)

    def _decode(self, memory: torch.Tensor, memory_padding: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        length = tokens.shape[1]
        causal = nn.Transformer.generate_square_subsequent_mask(length, device=tokens.device)
        return self.norm(self.decoder(self._embed(tokens), memory, tgt_mask=causal, tgt_is_causal=True, memory_key_padding_mask=memory_padding))


class PlainSteps:
    """Reference stepping: the state is (memory, padding, prefix); each step re-runs the prefix."""

    def __init__(self, model: CodeDecoder) -> None:
        self.model = model

    def start(self, memory: torch.Tensor, padding: torch.Tensor) -> Any:
        """The state of a batch (one row per request)."""
        return memory, padding, torch.zeros((len(memory), 0), dtype=torch.long, device=memory.device)

    def step(self, state: Any, last_values: torch.Tensor | None, depth: int) -> tuple[torch.Tensor, Any]:
        """Log-probabilities of position ``depth`` given the prefix."""
        memory, padding, prefix = state
        if last_values is not None:
            prefix = torch.cat([prefix, last_values.to(prefix.device).reshape(-1, 1)], dim=1)
        hidden = self.model._decode(memory, padding, self.model._tokens(prefix))
        return torch.log_softmax(self.model.heads[depth](hidden[:, depth]).float(), dim=-1), (memory, padding, prefix)

    def reorder(self, state: Any, rows: torch.Tensor) -> Any:
        """The state of the selected rows."""
        rows = rows.to(state[0].device)
        return state[0][rows], state[1][rows], state[2][rows]


class CachedSteps:
    """KV-cached stepping. The state is (per-layer cross keys/values of each *request*, memory
    padding, per-layer self-attention key/value caches of each *row*). Rows are request-major
    (row = request * group + beam), so one request's beams share its cross keys/values."""

    def __init__(self, model: CodeDecoder) -> None:
        self.model = model
        self.heads = model.config.heads

    def start(self, memory: torch.Tensor, padding: torch.Tensor) -> Any:
        """Cross keys/values for every layer, computed once per request."""
        d = self.model.config.d_model
        cross = []
        for layer in self.model.decoder.layers:
            attention = layer.multihead_attn
            k = F.linear(memory, attention.in_proj_weight[d : 2 * d], attention.in_proj_bias[d : 2 * d])
            v = F.linear(memory, attention.in_proj_weight[2 * d :], attention.in_proj_bias[2 * d :])
            cross.append((self._split(k), self._split(v)))
        empty = memory.new_zeros((len(memory), self.heads, 0, d // self.heads))
        mask = torch.zeros(padding.shape, dtype=memory.dtype, device=memory.device).masked_fill(padding, float("-inf"))
        return cross, mask[:, None, None, :], [(empty, empty) for _ in cross]

    def step(self, state: Any, last_values: torch.Tensor | None, depth: int) -> tuple[torch.Tensor, Any]:
        """Run the newest token only; log-probabilities of position ``depth``."""
        cross, mask, caches = state
        rows = caches[0][0].shape[0]
        device = mask.device
        if last_values is None:
            token = torch.zeros((rows, 1), dtype=torch.long, device=device)
        else:
            token = last_values.to(device).reshape(-1, 1) + self.model.offsets[depth - 1]
        x = self.model._embed(token, first_position=depth)
        new_caches = []
        for layer, (cross_k, cross_v), (self_k, self_v) in zip(self.model.decoder.layers, cross, caches):
            x, self_k, self_v = self._self_attention(layer, x, self_k, self_v)
            x = x + self._cross_attention(layer, x, cross_k, cross_v, mask)
            x = x + layer.linear2(layer.activation(layer.linear1(layer.norm3(x))))
            new_caches.append((self_k, self_v))
        hidden = self.model.norm(x[:, 0])
        return torch.log_softmax(self.model.heads[depth](hidden).float(), dim=-1), (cross, mask, new_caches)

    def reorder(self, state: Any, rows: torch.Tensor) -> Any:
        """Select rows of the self-attention caches; cross keys/values stay per request."""
        cross, mask, caches = state
        rows = rows.to(mask.device)
        return cross, mask, [(k[rows], v[rows]) for k, v in caches]

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        """``N x T x d`` -> ``N x heads x T x d/heads``."""
        return x.reshape(x.shape[0], x.shape[1], self.heads, -1).transpose(1, 2)

    def _self_attention(self, layer: nn.TransformerDecoderLayer, x: torch.Tensor, cache_k: torch.Tensor, cache_v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        attention = layer.self_attn
        q, k, v = F.linear(layer.norm1(x), attention.in_proj_weight, attention.in_proj_bias).chunk(3, dim=-1)
        cache_k = torch.cat([cache_k, self._split(k)], dim=2)
        cache_v = torch.cat([cache_v, self._split(v)], dim=2)
        out = F.scaled_dot_product_attention(self._split(q), cache_k, cache_v)
        return x + attention.out_proj(out.transpose(1, 2).reshape(x.shape)), cache_k, cache_v

    def _cross_attention(self, layer: nn.TransformerDecoderLayer, x: torch.Tensor, cross_k: torch.Tensor, cross_v: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """All beams of a request attend to its memory at once (beams act as query positions)."""
        attention = layer.multihead_attn
        d = self.model.config.d_model
        requests = cross_k.shape[0]
        q = F.linear(layer.norm2(x), attention.in_proj_weight[:d], attention.in_proj_bias[:d])
        q = q.reshape(requests, -1, self.heads, d // self.heads).transpose(1, 2)
        out = F.scaled_dot_product_attention(q, cross_k, cross_v, attn_mask=mask)
        return attention.out_proj(out.transpose(1, 2).reshape(x.shape))
