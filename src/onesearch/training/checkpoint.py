"""A trained generative model on disk, and the searcher built back from it.

Layout: ``model.safetensors`` (float16 weights) + ``manifest.json`` (model config with its views,
training recipe, losses, the codebook folder and encoder it was trained with) + ``held_out.json``
(cold items hidden from training) + ``loss.png`` + ``tokenizer.json`` (models with their own
text encoder only).

Contract: ``save_decoder`` writes atomically and records the weights' SHA-256; ``load_decoder``
rebuilds the exact module from the manifest's ``ModelConfig`` and checks the manifest kind and
(when recorded) the weights' hash; ``load_searcher`` wires a
``GenerativeSearcher`` from a model folder alone (its manifest names the codebook and encoder).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from onesearch.artifacts import atomic_directory, file_sha256, read_manifest, write_manifest
from onesearch.decoding.searcher import GenerativeSearcher
from onesearch.embedding.encoder import load_encoder, load_token_encoder
from onesearch.embedding.tokenizer import ShopTokenizer
from onesearch.errors import DataError
from onesearch.model.inputs import ContextBuilder, Views
from onesearch.model.transformer import CodeDecoder, ModelConfig
from onesearch.semantic_ids.codebook import encoder_spec, load_full_codes
from onesearch.semantic_ids.query import TextCoder

__all__ = ["KIND", "load_decoder", "load_searcher", "save_decoder"]

KIND = "generative-decoder"
WEIGHTS = "model.safetensors"


def save_decoder(model: CodeDecoder, out: Path, held_out: list[str], curve_png: bytes | None = None, tokenizer: ShopTokenizer | None = None, **extra: Any) -> None:
    """Weights + manifest (+ held-out items, loss curve, own tokenizer) into ``out`` (atomic)."""
    from safetensors.torch import save_file

    with atomic_directory(out) as tmp:
        save_file({k: v.detach().half().contiguous().cpu() for k, v in model.state_dict().items()}, str(tmp / WEIGHTS))
        (tmp / "held_out.json").write_text(json.dumps(sorted(held_out)))
        if curve_png is not None:
            (tmp / "loss.png").write_bytes(curve_png)
        if tokenizer is not None:
            tokenizer.save(tmp)
        write_manifest(tmp, KIND, config={"model": asdict(model.config)}, inputs={}, weights_sha256=file_sha256(tmp / WEIGHTS), **extra)


def load_decoder(directory: Path, device: str = "cpu") -> tuple[CodeDecoder, dict[str, Any]]:
    """The decoder saved in ``directory`` (eval mode) and its manifest; ``DataError`` when the
    weights are not the ones the manifest recorded."""
    from safetensors.torch import load_file

    manifest = read_manifest(directory, kind=KIND)
    expected = manifest.get("weights_sha256")
    if expected is not None and file_sha256(Path(directory) / WEIGHTS) != expected:
        raise DataError("the weights file does not match the manifest's hash (damaged or replaced)", path=Path(directory) / WEIGHTS)
    raw = dict(manifest["config"]["model"])
    config = ModelConfig(**{**raw, "code_sizes": tuple(raw["code_sizes"]), "views": Views(**raw.get("views", {}))})
    model = CodeDecoder(config)
    model.load_state_dict({k: v.float() for k, v in load_file(str(Path(directory) / WEIGHTS)).items()})
    return model.to(device).eval(), manifest


def load_searcher(directory: Path, beam: int = 50, encoder: str | None = None, kv_cache: bool = True, index: Path | None = None) -> GenerativeSearcher:
    """The searcher of a model folder; ``encoder`` and ``index`` override the manifest's paths."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model, manifest = load_decoder(directory, device=device)
    index = Path(index or manifest["index"])
    if not (index / "manifest.json").is_file():
        raise DataError(f"the model's codebook folder {index} is missing (rebuild it or move the model next to it)", path=directory)
    item_ids, full_codes, sizes = load_full_codes(index)
    views = model.config.views
    builder = ContextBuilder.of(views, item_ids, full_codes, sizes)
    try:
        if model.config.vocab_size:
            return _scratch_searcher(directory, model, index, item_ids, full_codes, beam, builder, kv_cache)
        text_encoder = load_token_encoder(encoder or manifest["encoder"])
    except ValueError as error:
        raise DataError(str(error), path=directory) from None
    coder = TextCoder.load(index, lambda texts: text_encoder.encode(texts, "item")).codes if views.query_code else None
    return GenerativeSearcher(text_encoder.token_states, model, item_ids, full_codes, beam, builder, coder, kv_cache)


def _scratch_searcher(directory: Path, model: CodeDecoder, index: Path, item_ids: list[str], full_codes: Any, beam: int, builder: ContextBuilder | None, kv_cache: bool) -> GenerativeSearcher:
    """A model with its own text encoder: its tokenizer gives the ids; the codebook's encoder
    gives the query codes."""
    tokenizer = ShopTokenizer.load(directory)
    query_codes: Any = None
    if model.config.views.query_code:
        spec = encoder_spec(index)
        if spec is None:
            raise ValueError(f"the codebook {index} does not record its encoder (rebuild it)")
        vectors = load_encoder(spec)
        coder = TextCoder.load(index, lambda texts: vectors.encode(texts, "item"))

        def query_codes(texts: list[str], _pooled: Any) -> Any:
            return coder.codes(texts, vectors.encode(texts, "query"))

    return GenerativeSearcher(tokenizer.ids, model, item_ids, full_codes, beam, builder, query_codes, kv_cache)
