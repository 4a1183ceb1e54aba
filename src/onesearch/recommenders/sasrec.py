"""SASRec (Kang & McAuley, 2018): a causal self-attention encoder over the user's recent items.

Contract: ``train_sasrec(sequences, train, valid, out, config, log)`` fits the model on the train
pairs only (full-softmax cross-entropy of the last position against the example's relevant
targets, shared input/output item embeddings), scores HR@10 on up to ``valid_examples`` valid
pairs after every epoch, keeps the best epoch (stopping after ``patience`` epochs without a gain)
and writes ``model.safetensors`` + ``manifest.json`` into ``out`` atomically.
``SasrecSearcher.load(out, sequences, fallback)`` is a ``types.Searcher``: each request is scored
over every item from its last ``max_len`` known history items; a request without one gets
``fallback`` (popularity). Deterministic for a seed on one machine.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from onesearch.artifacts import atomic_directory, read_manifest, write_manifest
from onesearch.recommenders.sequences import Sequences, TrainPair, top_hits
from onesearch.threads import for_batch
from onesearch.types import Hit, SearchRequest, Searcher

__all__ = ["KIND", "SasrecConfig", "SasrecSearcher", "SASRec", "train_sasrec"]

KIND = "sasrec"
WEIGHTS = "model.safetensors"
Log = Callable[[str], None]


@dataclass(frozen=True)
class SasrecConfig:
    """Model size and training schedule (the paper's defaults, scaled to small catalogs)."""

    dim: int = 64
    blocks: int = 2
    heads: int = 1
    dropout: float = 0.3
    max_len: int = 50
    epochs: int = 60
    patience: int = 6
    batch_size: int = 128
    learning_rate: float = 1e-3
    valid_examples: int = 1_000
    seed: int = 0


class SASRec(torch.nn.Module):
    """Item + position embeddings, causal pre-norm transformer blocks, dot-product item scores."""

    def __init__(self, items: int, config: SasrecConfig) -> None:
        super().__init__()
        self.config = config
        self.items = torch.nn.Embedding(items + 1, config.dim, padding_idx=0)  # row r is index r + 1; 0 pads
        self.positions = torch.nn.Embedding(config.max_len, config.dim)
        layer = torch.nn.TransformerEncoderLayer(config.dim, config.heads, config.dim, config.dropout, batch_first=True, norm_first=True)
        self.blocks = torch.nn.TransformerEncoder(layer, config.blocks, enable_nested_tensor=False)
        self.norm = torch.nn.LayerNorm(config.dim)
        self.dropout = torch.nn.Dropout(config.dropout)
        torch.nn.init.normal_(self.items.weight, std=config.dim**-0.5)

    def forward(self, histories: torch.Tensor) -> torch.Tensor:
        """``B x max_len`` item indexes (left-padded with 0) -> ``B x dim`` state of the last position."""
        length = histories.shape[1]
        keep = (histories > 0).unsqueeze(-1).float()
        x = self.items(histories) * math.sqrt(self.config.dim) + self.positions.weight[-length:]
        x = self.dropout(x) * keep  # padding stays zero (the original's timeline mask)
        causal = torch.triu(torch.full((length, length), float("-inf")), diagonal=1)
        return self.norm(self.blocks(x, mask=causal)[:, -1])

    def scores(self, states: torch.Tensor) -> torch.Tensor:
        """``B x items`` scores of every item row."""
        return states @ self.items.weight[1:].T


def _batch(histories: Sequence[list[int]], max_len: int) -> torch.Tensor:
    """Item indexes of the histories' last ``max_len`` rows, left-padded to the longest of them."""
    out = torch.zeros(len(histories), max(1, min(max_len, max(map(len, histories), default=1))), dtype=torch.long)
    for i, history in enumerate(histories):
        recent = history[-max_len:]
        if recent:
            out[i, -len(recent):] = torch.tensor(recent) + 1
    return out


def _loss(model: SASRec, batch: Sequence[TrainPair]) -> torch.Tensor:
    logits = model.scores(model(_batch([p.history for p in batch], model.config.max_len)))
    target = torch.zeros_like(logits)
    for i, pair in enumerate(batch):
        target[i, pair.targets] = 1.0 / len(pair.targets)
    return torch.nn.functional.cross_entropy(logits, target)


def _hit_rate(model: SASRec, pairs: Sequence[TrainPair], k: int = 10) -> float:
    if not pairs:
        return 0.0
    model.eval()
    hits = 0
    with torch.no_grad():
        for start in range(0, len(pairs), 512):
            chunk = pairs[start : start + 512]
            top = torch.topk(model.scores(model(_batch([p.history for p in chunk], model.config.max_len))), k, dim=1).indices.numpy()
            hits += sum(bool(set(row.tolist()) & set(p.targets)) for row, p in zip(top, chunk))
    model.train()
    return hits / len(pairs)


def train_sasrec(sequences: Sequences, train: Sequence[TrainPair], valid: Sequence[TrainPair], out: Path, config: SasrecConfig = SasrecConfig(),
                 log: Log = print) -> dict[str, Any]:
    """Fit, early-stop on valid HR@10, save (see module docstring); returns the training summary."""
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    train = [p for p in train if p.history]
    valid = rng.sample([p for p in valid if p.history], min(config.valid_examples, sum(1 for p in valid if p.history)))
    model = SASRec(len(sequences.item_ids), config)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    best, best_epoch, best_state, history = _hit_rate(model, valid), 0, {k: v.clone() for k, v in model.state_dict().items()}, []
    log(f"sasrec: {len(train):,} train pairs, {len(valid):,} valid pairs, {len(sequences.item_ids):,} items; epoch 0 valid HR@10 {best:.4f}")
    for epoch in range(1, config.epochs + 1):
        rng.shuffle(train)
        losses = []
        for start in range(0, len(train), config.batch_size):
            loss = _loss(model, train[start : start + config.batch_size])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
        score = _hit_rate(model, valid)
        history.append({"epoch": epoch, "loss": float(np.mean(losses)) if losses else 0.0, "valid_hr@10": score})
        log(f"sasrec epoch {epoch}: loss {history[-1]['loss']:.4f}, valid HR@10 {score:.4f}")
        if score > best:
            best, best_epoch, best_state = score, epoch, {k: v.clone() for k, v in model.state_dict().items()}
        elif epoch - best_epoch >= config.patience:
            break
    summary = {"best_epoch": best_epoch, "valid_hr@10": best, "epochs": history, "train_pairs": len(train), "items": len(sequences.item_ids)}
    with atomic_directory(out) as tmp:
        save_file(best_state, str(tmp / WEIGHTS))
        write_manifest(tmp, KIND, asdict(config), {}, summary=summary)
    return summary


class SasrecSearcher:
    """A trained SASRec over one catalog's rows."""

    name = "sasrec"

    def __init__(self, model: SASRec, sequences: Sequences, fallback: Searcher) -> None:
        self.model = model.eval()
        self.sequences = sequences
        self.fallback = fallback

    @classmethod
    def load(cls, directory: Path, sequences: Sequences, fallback: Searcher) -> SasrecSearcher:
        manifest = read_manifest(directory, KIND)
        known = {f.name for f in fields(SasrecConfig)}
        model = SASRec(len(sequences.item_ids), SasrecConfig(**{k: v for k, v in manifest["config"].items() if k in known}))
        model.load_state_dict(load_file(str(Path(directory) / WEIGHTS)))
        return cls(model, sequences, fallback)

    def search(self, requests: Sequence[SearchRequest], k: int) -> list[list[Hit]]:
        histories = [self.sequences.history(r) for r in requests]
        with torch.no_grad(), for_batch(len(requests)):
            scores = self.model.scores(self.model(_batch(histories, self.model.config.max_len))).numpy()
        cold = self.fallback.search([r for r, h in zip(requests, histories) if not h], k)
        return [top_hits(self.sequences.ids, row, k) if history else cold.pop(0) for history, row in zip(histories, scores)]
