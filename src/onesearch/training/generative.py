"""Training the code decoder on (text, item code) pairs over a frozen pretrained text encoder.

Contract: ``training_pairs`` builds the first two stages of the curriculum from a task — stage 1
semantic alignment (every item title -> its full code) and stage 2 co-occurrence (every train
query -> the code of each relevant item, weighted by gain). ``train_decoder`` runs one shuffled,
seeded loop over them (AdamW, linear warm-up then decay), logging loss and examples/s, and
returns the decoder with its per-epoch losses. The encoder is frozen: only the decoder learns.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from onesearch.model.transformer import CodeDecoder, ModelConfig
from onesearch.types import Example

__all__ = ["TrainConfig", "TrainingPairs", "train_decoder", "training_pairs"]


@dataclass(frozen=True)
class TrainConfig:
    """Loop knobs; saved with the checkpoint."""

    epochs: int = 3
    batch_size: int = 128
    learning_rate: float = 5e-4
    warmup_share: float = 0.05
    seed: int = 0


@dataclass
class TrainingPairs:
    """Texts, their target full codes (``n x L``) and example weights."""

    texts: list[str]
    codes: np.ndarray
    weights: np.ndarray


def training_pairs(titles: Sequence[str], full_codes: np.ndarray, row_of: dict[str, int], train: Sequence[Example]) -> TrainingPairs:
    """Stage 1 (title -> code, weight 1) plus stage 2 (query -> relevant item code, weight = max(gain, 1))."""
    texts, rows, weights = list(titles), list(range(len(titles))), [1.0] * len(titles)
    for example in train:
        for target in example.targets:
            if example.query and target.relevant and target.item_id in row_of:
                texts.append(example.query)
                rows.append(row_of[target.item_id])
                weights.append(max(1.0, float(target.gain)))
    return TrainingPairs(texts, np.asarray(full_codes)[rows], np.asarray(weights, dtype=np.float32))


def train_decoder(
    pairs: TrainingPairs,
    token_states: Callable[[list[str]], tuple[torch.Tensor, torch.Tensor]],
    model_config: ModelConfig,
    config: TrainConfig = TrainConfig(),
    device: str = "cpu",
    log: Callable[[str], None] = print,
) -> tuple[CodeDecoder, dict[str, float]]:
    """Train a fresh decoder; ``token_states(texts)`` is the frozen encoder."""
    torch.manual_seed(config.seed)
    model = CodeDecoder(model_config).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=0.01)
    per_epoch = max(1, len(pairs.texts) // config.batch_size)
    steps = per_epoch * config.epochs
    warmup = max(1, int(steps * config.warmup_share))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min((s + 1) / warmup, max(0.02, (steps - s) / max(1, steps - warmup))))
    codes = torch.as_tensor(pairs.codes, dtype=torch.long)
    weights = torch.as_tensor(pairs.weights)
    order = list(range(len(pairs.texts)))
    losses: dict[str, float] = {}
    model.train()
    started = time.perf_counter()
    for epoch in range(config.epochs):
        random.Random(config.seed + epoch).shuffle(order)
        epoch_losses = []
        for step in range(per_epoch):
            batch = order[step * config.batch_size : (step + 1) * config.batch_size]
            memory, padding = token_states([pairs.texts[i] for i in batch])
            loss = model.loss(memory.to(device).float(), padding.to(device), codes[batch].to(device), weights[batch].to(device))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            epoch_losses.append(float(loss.detach()))
            if (epoch * per_epoch + step + 1) % max(1, steps // 20) == 0:
                rate = (epoch * per_epoch + step + 1) * config.batch_size / (time.perf_counter() - started)
                log(f"step {epoch * per_epoch + step + 1}/{steps}: loss {np.mean(epoch_losses[-50:]):.3f}, {rate:.0f} examples/s")
        losses[f"epoch_{epoch + 1}"] = float(np.mean(epoch_losses))
    model.eval()
    return model, losses
