"""The staged training loop of the generative searcher.

Contract: the texts of the examples come as ``EncodedTexts`` or ``TokenizedTexts``, both answering
``batch(ids, device) -> (text, padding)`` for ``CodeDecoder``. ``EncodedTexts.build(texts,
token_states)`` runs a frozen pretrained encoder once over every distinct text (token states kept
as float16, pooled vectors; ``save``/``load`` keep them on disk), so epochs spend their time on
the decoder only. ``TokenizedTexts(texts, tokenizer)`` holds the ids of a shop-trained tokenizer
for a model with its own text encoder (trained with the decoder; no recent-query view). ``train(stages, texts, model_config, config, ...)`` runs the
curriculum stages in ``STAGES`` order, each for its configured epochs (0 = skip), with one AdamW
optimizer and one warm-up/linear-decay schedule over all of them; it logs loss and examples/s,
records a loss curve, and, given ``checkpoints``, saves a resumable checkpoint after every epoch
and resumes from the last one found there.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence

from onesearch.artifacts import atomic_directory
from onesearch.model.inputs import Context, ContextBuilder, pooled, recent_queries
from onesearch.model.transformer import CodeDecoder, ModelConfig
from onesearch.training.examples import STAGES, StageExamples
from onesearch.types import SearchRequest

__all__ = ["EncodedTexts", "TokenizedTexts", "TrainConfig", "TrainResult", "train"]

TokenStates = Callable[[list[str]], tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class TrainConfig:
    """Loop knobs; saved with the model."""

    align_epochs: int = 1
    cooccur_epochs: int = 2
    personal_epochs: int = 2
    batch_size: int = 128
    learning_rate: float = 5e-4
    warmup_share: float = 0.05
    seed: int = 0

    def epochs(self, stage: str) -> int:
        """Epochs of the named stage."""
        return int(getattr(self, f"{stage}_epochs"))


@dataclass
class TrainResult:
    """The trained model, per-epoch mean losses and the loss curve (step, loss, stage)."""

    model: CodeDecoder
    losses: dict[str, float]
    curve: list[tuple[int, float, str]]
    examples_per_second: float


class EncodedTexts:
    """Frozen-encoder outputs of a fixed list of texts, computed once."""

    def __init__(self, texts: Sequence[str], states: list[torch.Tensor], vectors: np.ndarray, codes: np.ndarray | None = None) -> None:
        self.index = {text: i for i, text in enumerate(texts)}
        self.states = states
        self.vectors = vectors
        self.codes = codes

    @classmethod
    def build(cls, texts: Sequence[str], token_states: TokenStates, chunk: int = 256, log: Callable[[str], None] = print) -> EncodedTexts:
        """Encode ``texts`` (``codes``, the query codes, are set by the caller when needed)."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths share a batch: less padding
        states: list[torch.Tensor] = [torch.empty(0)] * len(texts)
        vectors = np.zeros((len(texts), 0), dtype=np.float32)
        started = time.perf_counter()
        for start in range(0, len(order), chunk):
            rows = order[start : start + chunk]
            batch, padding = token_states([texts[i] for i in rows])
            batch, padding = batch.float().cpu(), padding.cpu()
            pooled_rows = pooled(batch, padding).numpy()
            if not vectors.shape[1]:
                vectors = np.zeros((len(texts), pooled_rows.shape[1]), dtype=np.float32)
            vectors[rows] = pooled_rows
            for row, state, pad in zip(rows, batch, padding):
                states[row] = state[~pad].half()
            if (start // chunk) % 50 == 49:
                log(f"encoded {start + len(rows):,} of {len(texts):,} texts")
        log(f"encoded {len(texts):,} distinct texts in {time.perf_counter() - started:.0f} s")
        return cls(texts, states, vectors)

    def save(self, directory: Path) -> None:
        """States (one float16 array + offsets) and vectors into ``directory`` (atomic); query
        codes are not stored (they depend on the codebook)."""
        with atomic_directory(directory) as tmp:
            lengths = np.array([len(s) for s in self.states], dtype=np.int64)
            np.save(tmp / "states.npy", torch.cat(self.states).numpy() if self.states else np.zeros((0, 0), dtype=np.float16))
            np.save(tmp / "offsets.npy", np.concatenate([[0], np.cumsum(lengths)]))
            np.save(tmp / "vectors.npy", self.vectors)
            (tmp / "texts.json").write_text(json.dumps(list(self.index)))

    @classmethod
    def load(cls, directory: Path) -> EncodedTexts:
        """What ``save`` wrote."""
        states = torch.from_numpy(np.load(directory / "states.npy"))
        offsets = np.load(directory / "offsets.npy")
        texts = json.loads((directory / "texts.json").read_text())
        return cls(texts, [states[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)], np.load(directory / "vectors.npy"))

    def batch(self, ids: Sequence[int], device: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded float32 states and padding mask of the texts ``ids``."""
        states, padding = _padded([self.states[i] for i in ids], device)
        return states.float(), padding

    def recent(self, queries: list[list[str]], device: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Pooled vectors (``B x R x dim``) and padding of each request's recent queries."""
        vectors, padding = recent_queries(queries, self.vectors, self.index)
        return vectors.to(device), padding.to(device)


class TokenizedTexts:
    """Token ids of a fixed list of texts (``ids``: a function like ``ShopTokenizer.ids``)."""

    def __init__(self, texts: Sequence[str], ids: TokenStates, chunk: int = 4096) -> None:
        self.index = {text: i for i, text in enumerate(texts)}
        self.codes: np.ndarray | None = None
        self.rows: list[torch.Tensor] = []
        for start in range(0, len(texts), chunk):
            batch, padding = ids(list(texts[start : start + chunk]))
            self.rows.extend(row[~pad] for row, pad in zip(batch, padding))

    def batch(self, ids: Sequence[int], device: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded int64 ids and padding mask of the texts ``ids``."""
        return _padded([self.rows[i] for i in ids], device)

    def recent(self, queries: list[list[str]], device: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Not available: the recent-query view needs a frozen encoder's pooled vectors."""
        raise ValueError("a model with its own text encoder cannot read recent queries (set views.short_queries = 0)")


def _padded(rows: list[torch.Tensor], device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows stacked with zero padding, and the padding mask (True = padding)."""
    lengths = torch.tensor([len(r) for r in rows])
    stacked = pad_sequence(rows, batch_first=True)
    padding = torch.arange(stacked.shape[1])[None, :] >= lengths[:, None]
    return stacked.to(device), padding.to(device)


def train(
    stages: dict[str, StageExamples],
    texts: EncodedTexts | TokenizedTexts,
    model_config: ModelConfig,
    config: TrainConfig = TrainConfig(),
    builder: ContextBuilder | None = None,
    device: str = "cpu",
    checkpoints: Path | None = None,
    log: Callable[[str], None] = print,
) -> TrainResult:
    """Run the curriculum (see module docstring)."""
    torch.manual_seed(config.seed)
    model = CodeDecoder(model_config).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=0.01)
    plan = [(name, epoch) for name in STAGES if name in stages for epoch in range(config.epochs(name))]
    steps = sum(max(1, len(stages[name]) // config.batch_size) for name, _ in plan)
    warmup = max(1, int(steps * config.warmup_share))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min((s + 1) / warmup, max(0.02, (steps - s) / max(1, steps - warmup))))
    progress: dict[str, Any] = {"done": [], "step": 0, "curve": [], "losses": {}, "seconds": 0.0, "examples": 0}
    if checkpoints is not None and (checkpoints / "progress.json").exists():
        progress = _resume(checkpoints, model, optimizer, schedule, device)
        log(f"resumed after {len(progress['done'])} of {len(plan)} epochs")
    for name, epoch in plan:
        if [name, epoch] in progress["done"]:
            continue
        started = time.perf_counter()
        losses = _epoch(model, optimizer, schedule, stages[name], texts, builder, config, epoch, device, progress, steps, log)
        progress["seconds"] += time.perf_counter() - started
        progress["losses"][f"{name}_{epoch + 1}"] = float(np.mean(losses)) if losses else float("nan")
        progress["done"].append([name, epoch])
        if checkpoints is not None:
            _save_checkpoint(checkpoints, model, optimizer, schedule, progress)
    model.eval()
    rate = progress["examples"] / max(progress["seconds"], 1e-9)
    return TrainResult(model, progress["losses"], [tuple(p) for p in progress["curve"]], rate)


def _epoch(model, optimizer, schedule, stage: StageExamples, texts: EncodedTexts | TokenizedTexts, builder, config: TrainConfig, epoch: int, device: str, progress: dict, steps: int, log) -> list[float]:  # type: ignore[no-untyped-def]
    """One shuffled pass over a stage; appends to ``progress`` (step, curve, examples)."""
    model.train()
    order = list(range(len(stage)))
    random.Random(config.seed * 1000 + epoch * 31 + STAGES.index(stage.name)).shuffle(order)
    per_epoch = max(1, len(order) // config.batch_size)
    codes = torch.as_tensor(stage.codes, dtype=torch.long)
    weights = torch.as_tensor(stage.weights)
    losses: list[float] = []
    started, seen = time.perf_counter(), 0
    for step in range(per_epoch):
        batch = order[step * config.batch_size : (step + 1) * config.batch_size]
        states, padding = texts.batch(stage.text[batch].tolist(), device)
        context, recent = _context(stage, batch, texts, builder, device)
        loss = model.loss(states, padding, codes[batch].to(device), weights[batch].to(device), context, recent)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        losses.append(float(loss.detach()))
        seen += len(batch)
        progress["step"] += 1
        progress["examples"] += len(batch)
        if progress["step"] % max(1, steps // 50) == 0 or step == per_epoch - 1:
            recent_loss = float(np.mean(losses[-50:]))
            progress["curve"].append([progress["step"], recent_loss, stage.name])
            log(f"{stage.name} epoch {epoch + 1} step {progress['step']}/{steps}: loss {recent_loss:.3f}, {seen / (time.perf_counter() - started):.0f} examples/s")
    return losses


def _context(stage: StageExamples, batch: list[int], texts: EncodedTexts | TokenizedTexts, builder: ContextBuilder | None, device: str) -> tuple[Context | None, tuple[torch.Tensor, torch.Tensor] | None]:
    """The views of a batch: query codes for query texts; the user views in the personal stage."""
    if builder is None:
        return None, None
    ids = stage.text[batch]
    requests = [stage.requests[i] for i in batch] if stage.requests is not None else [SearchRequest("") for _ in batch]
    query_codes = None
    if builder.views.query_code and texts.codes is not None:
        query_codes = np.where(stage.is_query[batch][:, None], texts.codes[ids], -1)
    context = builder.build(requests, query_codes)
    recent = texts.recent(context.queries, device) if any(context.queries) else None
    return context.to(device), recent


def _save_checkpoint(directory: Path, model: CodeDecoder, optimizer, schedule, progress: dict) -> None:  # type: ignore[no-untyped-def]
    """Weights, optimizer and schedule state and progress, replaced atomically."""
    from safetensors.torch import save_file

    with atomic_directory(directory) as tmp:
        save_file({k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}, str(tmp / "model.safetensors"))
        torch.save({"optimizer": optimizer.state_dict(), "schedule": schedule.state_dict()}, tmp / "optimizer.pt")
        (tmp / "progress.json").write_text(json.dumps(progress))
        (tmp / "config.json").write_text(json.dumps(asdict(model.config)))


def _resume(directory: Path, model: CodeDecoder, optimizer, schedule, device: str) -> dict:  # type: ignore[no-untyped-def]
    from safetensors.torch import load_file

    saved = json.loads((directory / "config.json").read_text())
    if saved != json.loads(json.dumps(asdict(model.config))):
        raise ValueError(f"checkpoint in {directory} was trained with another model config; remove it or use another --out")
    model.load_state_dict(load_file(str(directory / "model.safetensors"), device=device))
    state = torch.load(directory / "optimizer.pt", map_location=device, weights_only=True)
    optimizer.load_state_dict(state["optimizer"])
    schedule.load_state_dict(state["schedule"])
    return json.loads((directory / "progress.json").read_text())
