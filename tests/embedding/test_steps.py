"""``train_steps``: the shared fine-tuning loop (batches, schedule, progress, per-epoch losses)."""

from __future__ import annotations

import torch

from onesearch.embedding.steps import Schedule, train_steps


def test_the_loop_steps_through_whole_batches_and_lowers_the_loss():
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1)
    rows = [(float(x), 3.0 * x - 1.0) for x in range(-5, 6)]  # 11 rows, batches of 4: 2 steps per epoch
    seen: list[int] = []
    heard: list[tuple[int, int]] = []

    def step_loss(batch):
        seen.append(len(batch))
        x = torch.tensor([[x, 1.0] for x, _ in batch])
        y = torch.tensor([[y] for _, y in batch])
        return torch.nn.functional.mse_loss(model(x), y)

    losses = train_steps(model, rows, step_loss, Schedule(epochs=30, batch_size=4, learning_rate=0.1, warmup_share=0.1, seed=0), "toy",
                         advance=lambda done, total: heard.append((done, total)))
    assert list(losses) == [f"epoch_{n}" for n in range(1, 31)] and seen == [4] * 60
    assert heard[0] == (1, 60) and heard[-1] == (60, 60)
    assert losses["epoch_30"] < losses["epoch_1"] / 10 and not model.training
