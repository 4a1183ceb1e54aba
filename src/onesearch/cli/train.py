"""``onesearch train``: the generative decoder on a task's titles and train queries."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import torch
import typer
from rich.console import Console

from onesearch.cascade.catalog import item_text
from onesearch.catalog import registry
from onesearch.catalog.schema import examples_of
from onesearch.cli.data import DataOption, SourceOption, data_root
from onesearch.embedding.encoder import SentenceEncoder, load_encoder
from onesearch.errors import DataError
from onesearch.model.transformer import ModelConfig
from onesearch.semantic_ids.codebook import load_full_codes
from onesearch.training.checkpoint import save_decoder
from onesearch.training.generative import TrainConfig, train_decoder, training_pairs

__all__ = ["token_encoder", "train_command"]

console = Console(stderr=True)


def token_encoder(spec: str) -> SentenceEncoder:
    """The frozen encoder a decoder reads: it must give per-token states."""
    text_encoder = load_encoder(spec)
    if not isinstance(text_encoder, SentenceEncoder):
        raise DataError(f"encoder {spec!r} gives no token states: use minilm or a sentence-transformers directory")
    return text_encoder


def train_command(
    task: Annotated[str, typer.Option("--task", help="Data set whose train split teaches.")],
    index: Annotated[Path, typer.Option("--index", help="Codebook directory from `onesearch index build`.")],
    out: Annotated[Path, typer.Option("--out", help="Model directory (replaced atomically).")],
    encoder: Annotated[str, typer.Option("--encoder", help="Frozen text encoder: a sentence-transformers directory (e.g. the cascade's dual-encoder) or minilm.")] = "minilm",
    epochs: Annotated[int, typer.Option("--epochs", min=1)] = 3,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 128,
    d_model: Annotated[int, typer.Option("--d-model", min=8)] = 256,
    layers: Annotated[int, typer.Option("--layers", min=1)] = 4,
    data: DataOption = None,
    source: SourceOption = None,
) -> None:
    """Train the code decoder (stage 1 title -> code, stage 2 query -> relevant item code)."""
    dataset = registry.load(task, data_root(data), source=source)
    item_ids, full_codes, sizes = load_full_codes(index)
    text_encoder = token_encoder(encoder)
    columns = dataset.items.select(["item_id", "title", "brand", "category"]).to_pydict()
    text_of = {i: item_text(t, b, c) for i, t, b, c in zip(columns["item_id"], columns["title"], columns["brand"], columns["category"])}
    if set(item_ids) != set(text_of):
        raise DataError("the codebook was built on another catalog than this task's", path=index)
    train = [e for e in examples_of(dataset.examples) if e.split == "train"]
    pairs = training_pairs([text_of[i] for i in item_ids], full_codes, {i: r for r, i in enumerate(item_ids)}, train)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    config = ModelConfig(code_sizes=sizes, memory_dim=text_encoder.dim, d_model=d_model, layers=layers, heads=max(1, d_model // 64), feedforward=4 * d_model)
    loop = TrainConfig(epochs=epochs, batch_size=batch_size)
    console.print(f"training on {len(pairs.texts):,} pairs ({len(item_ids):,} titles + train queries) on {device}")
    model, losses = train_decoder(pairs, text_encoder.token_states, config, loop, device, log=console.print)
    save_decoder(model, out, losses=losses, train_config=asdict(loop), index=str(index), encoder=encoder, pairs=len(pairs.texts), device=device)
    typer.echo(json.dumps(losses))
