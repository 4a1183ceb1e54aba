"""The fine-tuning loop both shipped-weight fine-tunes share (the dual encoder, the reward
model's cross-encoder).

Contract: ``train_steps(model, rows, step_loss, schedule)`` runs ``schedule.epochs`` epochs over
``rows`` shuffled with seed ``schedule.seed + epoch``, in ``len(rows) // batch_size`` batches per
epoch (at least one; a short last batch is dropped), AdamW with a linear warmup over
``warmup_share`` of the steps and a linear decay to 0 after; ``step_loss(batch)`` gives each
batch's loss. Returns the mean loss of each epoch (``epoch_1``, ...); ``advance`` hears (steps
done, steps in all) after every step and ``log`` a line every tenth of the steps.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Schedule", "train_steps"]


@dataclass(frozen=True)
class Schedule:
    """How long and how fast to fine-tune."""

    epochs: int
    batch_size: int
    learning_rate: float
    warmup_share: float
    seed: int


def train_steps(model: Any, rows: Sequence[Any], step_loss: Callable[[list[Any]], Any], schedule: Schedule, name: str,
                log: Callable[[str], None] | None = None, advance: Callable[[int, int], None] | None = None) -> dict[str, float]:
    """Fine-tune ``model`` on ``rows`` (see module docstring); ``name`` leads the log lines."""
    import torch

    per_epoch = len(rows) // schedule.batch_size or 1
    steps = schedule.epochs * per_epoch
    optimizer = torch.optim.AdamW(model.parameters(), lr=schedule.learning_rate)
    warmup = max(1, int(steps * schedule.warmup_share))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup))))
    order = list(range(len(rows)))
    losses = {}
    model.train()
    for epoch in range(schedule.epochs):
        random.Random(schedule.seed + epoch).shuffle(order)
        epoch_losses = []
        for start in range(0, per_epoch * schedule.batch_size, schedule.batch_size):
            loss = step_loss([rows[i] for i in order[start : start + schedule.batch_size]])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            epoch_losses.append(float(loss.detach()))
            done = epoch * per_epoch + len(epoch_losses)
            if advance is not None:
                advance(done, steps)
            if log is not None and done % max(1, steps // 10) == 0:
                log(f"{name} step {done}/{steps}: loss {np.mean(epoch_losses[-50:]):.4f}")
        losses[f"epoch_{epoch + 1}"] = float(np.mean(epoch_losses))
    model.eval()
    return losses
